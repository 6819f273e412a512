// Which network addresses an outgoing fetch (a URL import) may connect to.
//
// A URL given by a client must not reach into the server's own network (SSRF): the
// loopback interface, private ranges (RFC 1918, IPv6 unique local fc00::/7), link-local
// (169.254/16 with the cloud metadata service 169.254.169.254, fe80::/10), shared CGNAT
// space (100.64/10), the unspecified address, multicast, broadcast and other reserved
// ranges. Everything else is public. IPv6 forms that carry an IPv4 address
// (::ffff:a.b.c.d mapped, ::a.b.c.d compatible, 64:ff9b::/96 NAT64, 2002::/16 6to4) are
// classified by that IPv4 address, so no spelling of 127.0.0.1 gets through.
//
// The check is applied to the address actually being connected to, after DNS
// resolution (UrlFetcher does it in curl's open-socket callback), so a name that
// resolves to a private address, or rebinds to one between two lookups, is refused too.
//
// Pure functions; thread-safe.
#pragma once

#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>

namespace reprise::net {

enum class AddressClass {
  kPublic,
  kLoopback,     // 127/8, ::1
  kPrivate,      // 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10 (site-local)
  kLinkLocal,    // 169.254/16 (cloud metadata), fe80::/10
  kShared,       // 100.64/10, carrier-grade NAT
  kUnspecified,  // 0/8, ::
  kMulticast,    // 224/4, ff00::/8
  kBroadcast,    // 255.255.255.255
  kReserved,     // 240/4, 192.0.0/24, 198.18/15, documentation ranges, other IPv6 specials
};

// "loopback", "private", "link-local", "shared (CGNAT)", ...
std::string_view Name(AddressClass address_class);

// The class of a socket address (AF_INET or AF_INET6); any other family is kReserved.
AddressClass ClassifyAddress(const sockaddr* address, socklen_t length);

// The class of an address written as text ("10.0.0.1", "::ffff:127.0.0.1", "[::1]"),
// nullopt when the text is no IP address (a host name).
std::optional<AddressClass> ClassifyAddressText(std::string_view text);

// The address as text ("127.0.0.1", "::1"), for messages.
std::string AddressText(const sockaddr* address, socklen_t length);

}  // namespace reprise::net
