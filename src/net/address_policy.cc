#include "net/address_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <cstring>

namespace reprise::net {
namespace {

struct V4Range {
  uint32_t network;
  int prefix;
  AddressClass address_class;
};

constexpr uint32_t V4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

// Most specific first: broadcast lies inside 240/4.
constexpr V4Range kV4Ranges[] = {
    {V4(255, 255, 255, 255), 32, AddressClass::kBroadcast},
    {V4(0, 0, 0, 0), 8, AddressClass::kUnspecified},
    {V4(127, 0, 0, 0), 8, AddressClass::kLoopback},
    {V4(10, 0, 0, 0), 8, AddressClass::kPrivate},
    {V4(172, 16, 0, 0), 12, AddressClass::kPrivate},
    {V4(192, 168, 0, 0), 16, AddressClass::kPrivate},
    {V4(169, 254, 0, 0), 16, AddressClass::kLinkLocal},
    {V4(100, 64, 0, 0), 10, AddressClass::kShared},
    {V4(224, 0, 0, 0), 4, AddressClass::kMulticast},
    {V4(240, 0, 0, 0), 4, AddressClass::kReserved},
    {V4(192, 0, 0, 0), 24, AddressClass::kReserved},     // IETF protocol assignments
    {V4(192, 0, 2, 0), 24, AddressClass::kReserved},     // TEST-NET-1
    {V4(198, 18, 0, 0), 15, AddressClass::kReserved},    // benchmarking
    {V4(198, 51, 100, 0), 24, AddressClass::kReserved},  // TEST-NET-2
    {V4(203, 0, 113, 0), 24, AddressClass::kReserved},   // TEST-NET-3
};

AddressClass ClassifyV4(uint32_t address) {
  for (const auto& range : kV4Ranges) {
    uint32_t mask = range.prefix == 0 ? 0 : ~uint32_t{0} << (32 - range.prefix);
    if ((address & mask) == range.network) return range.address_class;
  }
  return AddressClass::kPublic;
}

uint32_t V4At(const uint8_t* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

bool AllZero(const uint8_t* bytes, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

AddressClass ClassifyV6(const uint8_t* b) {
  if (AllZero(b, 16)) return AddressClass::kUnspecified;
  if (AllZero(b, 15) && b[15] == 1) return AddressClass::kLoopback;
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (the deprecated compatible form).
  if (AllZero(b, 10) && ((b[10] == 0xff && b[11] == 0xff) || (b[10] == 0 && b[11] == 0))) {
    return ClassifyV4(V4At(b + 12));
  }
  // 64:ff9b::/96, the well-known NAT64 prefix, and 64:ff9b:1::/48 (local-use NAT64).
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) {
    if (AllZero(b + 4, 8)) return ClassifyV4(V4At(b + 12));
    if (b[4] == 0 && b[5] == 1) return AddressClass::kPrivate;
  }
  if (b[0] == 0x20 && b[1] == 0x02) return ClassifyV4(V4At(b + 2));            // 6to4
  if ((b[0] & 0xfe) == 0xfc) return AddressClass::kPrivate;                    // fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::kLinkLocal;  // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressClass::kPrivate;    // fec0::/10
  if (b[0] == 0xff) return AddressClass::kMulticast;
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) {
    return AddressClass::kReserved;  // 2001:db8::/32, documentation
  }
  if (AllZero(b, 8) && !(b[8] == 0 && b[9] == 0 && b[10] == 0 && b[11] == 0)) {
    return AddressClass::kReserved;  // the rest of ::/64 (e.g. ::ffff:0:0/96 translated)
  }
  if (b[0] == 0x01 && b[1] == 0x00 && AllZero(b + 2, 6)) {
    return AddressClass::kReserved;  // 100::/64, discard-only
  }
  return AddressClass::kPublic;
}

}  // namespace

std::string_view Name(AddressClass address_class) {
  switch (address_class) {
    case AddressClass::kPublic:
      return "public";
    case AddressClass::kLoopback:
      return "loopback";
    case AddressClass::kPrivate:
      return "private";
    case AddressClass::kLinkLocal:
      return "link-local";
    case AddressClass::kShared:
      return "shared (CGNAT)";
    case AddressClass::kUnspecified:
      return "unspecified";
    case AddressClass::kMulticast:
      return "multicast";
    case AddressClass::kBroadcast:
      return "broadcast";
    case AddressClass::kReserved:
      return "reserved";
  }
  return "reserved";
}

AddressClass ClassifyAddress(const sockaddr* address, socklen_t length) {
  if (address == nullptr) return AddressClass::kReserved;
  if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    return ClassifyV4(ntohl(v4->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    return ClassifyV6(v6->sin6_addr.s6_addr);
  }
  return AddressClass::kReserved;
}

std::optional<AddressClass> ClassifyAddressText(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  std::string copy(text);
  in_addr v4{};
  if (inet_pton(AF_INET, copy.c_str(), &v4) == 1) return ClassifyV4(ntohl(v4.s_addr));
  // A zone ("fe80::1%eth0") names an interface: link-local by definition.
  if (auto zone = copy.find('%'); zone != std::string::npos) copy.resize(zone);
  in6_addr v6{};
  if (inet_pton(AF_INET6, copy.c_str(), &v6) == 1) return ClassifyV6(v6.s6_addr);
  return std::nullopt;
}

std::string AddressText(const sockaddr* address, socklen_t length) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (address != nullptr && address->sa_family == AF_INET &&
      length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, text.data(),
              text.size());
    return text.data();
  }
  if (address != nullptr && address->sa_family == AF_INET6 &&
      length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, text.data(),
              text.size());
    return text.data();
  }
  return "(unknown address family)";
}

}  // namespace reprise::net
