#include "net/address_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace reprise::net {
namespace {

using Case = std::pair<std::string, AddressClass>;

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      // IPv4, each range at its edges and beside them
      {"0.0.0.0", AddressClass::kUnspecified},
      {"0.255.255.255", AddressClass::kUnspecified},
      {"1.0.0.0", AddressClass::kPublic},
      {"9.255.255.255", AddressClass::kPublic},
      {"10.0.0.0", AddressClass::kPrivate},
      {"10.255.255.255", AddressClass::kPrivate},
      {"11.0.0.0", AddressClass::kPublic},
      {"100.63.255.255", AddressClass::kPublic},
      {"100.64.0.0", AddressClass::kShared},
      {"100.127.255.255", AddressClass::kShared},
      {"100.128.0.0", AddressClass::kPublic},
      {"126.255.255.255", AddressClass::kPublic},
      {"127.0.0.1", AddressClass::kLoopback},
      {"127.255.255.254", AddressClass::kLoopback},
      {"128.0.0.0", AddressClass::kPublic},
      {"169.253.255.255", AddressClass::kPublic},
      {"169.254.0.0", AddressClass::kLinkLocal},
      {"169.254.169.254", AddressClass::kLinkLocal},  // cloud metadata
      {"169.255.0.0", AddressClass::kPublic},
      {"172.15.255.255", AddressClass::kPublic},
      {"172.16.0.0", AddressClass::kPrivate},
      {"172.31.255.255", AddressClass::kPrivate},
      {"172.32.0.0", AddressClass::kPublic},
      {"192.0.0.8", AddressClass::kReserved},
      {"192.0.2.1", AddressClass::kReserved},
      {"192.88.99.1", AddressClass::kPublic},
      {"192.167.255.255", AddressClass::kPublic},
      {"192.168.0.0", AddressClass::kPrivate},
      {"192.168.255.255", AddressClass::kPrivate},
      {"192.169.0.0", AddressClass::kPublic},
      {"198.17.255.255", AddressClass::kPublic},
      {"198.18.0.0", AddressClass::kReserved},
      {"198.19.255.255", AddressClass::kReserved},
      {"198.20.0.0", AddressClass::kPublic},
      {"198.51.100.7", AddressClass::kReserved},
      {"203.0.113.9", AddressClass::kReserved},
      {"8.8.8.8", AddressClass::kPublic},
      {"223.255.255.255", AddressClass::kPublic},
      {"224.0.0.0", AddressClass::kMulticast},
      {"239.255.255.255", AddressClass::kMulticast},
      {"240.0.0.0", AddressClass::kReserved},
      {"255.255.255.254", AddressClass::kReserved},
      {"255.255.255.255", AddressClass::kBroadcast},
      // IPv6
      {"::", AddressClass::kUnspecified},
      {"::1", AddressClass::kLoopback},
      {"::2", AddressClass::kUnspecified},  // IPv4-compatible 0.0.0.2, in 0/8
      {"2606:4700:4700::1111", AddressClass::kPublic},
      {"2001:4860:4860::8888", AddressClass::kPublic},
      {"fbff:ffff::1", AddressClass::kPublic},
      {"fc00::", AddressClass::kPrivate},
      {"fd12:3456:789a::1", AddressClass::kPrivate},
      {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::kPrivate},
      {"fe00::1", AddressClass::kPublic},
      {"fe80::", AddressClass::kLinkLocal},
      {"fe80::1%1", AddressClass::kLinkLocal},
      {"febf:ffff::1", AddressClass::kLinkLocal},
      {"fec0::1", AddressClass::kPrivate},
      {"ff02::1", AddressClass::kMulticast},
      {"ff00::", AddressClass::kMulticast},
      {"2001:db8::1", AddressClass::kReserved},
      {"100::1", AddressClass::kReserved},
      // IPv6 spellings of IPv4 addresses take the IPv4 address's class
      {"::ffff:127.0.0.1", AddressClass::kLoopback},
      {"::ffff:7f00:1", AddressClass::kLoopback},
      {"::ffff:10.1.2.3", AddressClass::kPrivate},
      {"::ffff:169.254.169.254", AddressClass::kLinkLocal},
      {"::ffff:100.64.0.1", AddressClass::kShared},
      {"::ffff:0.0.0.0", AddressClass::kUnspecified},
      {"::ffff:224.0.0.1", AddressClass::kMulticast},
      {"::ffff:255.255.255.255", AddressClass::kBroadcast},
      {"::ffff:8.8.8.8", AddressClass::kPublic},
      {"::127.0.0.1", AddressClass::kLoopback},
      {"::192.168.1.1", AddressClass::kPrivate},
      {"64:ff9b::127.0.0.1", AddressClass::kLoopback},
      {"64:ff9b::a9fe:a9fe", AddressClass::kLinkLocal},
      {"64:ff9b::8.8.8.8", AddressClass::kPublic},
      {"64:ff9b:1::1", AddressClass::kPrivate},
      {"2002:7f00:1::", AddressClass::kLoopback},  // 6to4 of 127.0.0.1
      {"2002:c0a8:101::1", AddressClass::kPrivate},
      {"2002:808:808::1", AddressClass::kPublic},
      {"::ffff:0:127.0.0.1", AddressClass::kReserved},
  };
  return cases;
}

TEST(AddressPolicy, ClassifiesEveryRangeFromText) {
  for (const auto& [text, expected] : Cases()) {
    auto got = ClassifyAddressText(text);
    ASSERT_TRUE(got.has_value()) << text;
    EXPECT_EQ(Name(*got), Name(expected)) << text;
  }
}

TEST(AddressPolicy, ClassifiesSocketAddressesLikeTheirText) {
  for (const auto& [text, expected] : Cases()) {
    if (text.find('%') != std::string::npos) continue;
    sockaddr_storage storage{};
    socklen_t length = 0;
    if (text.find(':') == std::string::npos) {
      auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
      v4->sin_family = AF_INET;
      ASSERT_EQ(inet_pton(AF_INET, text.c_str(), &v4->sin_addr), 1) << text;
      length = sizeof(sockaddr_in);
    } else {
      auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
      v6->sin6_family = AF_INET6;
      ASSERT_EQ(inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr), 1) << text;
      length = sizeof(sockaddr_in6);
    }
    const auto* address = reinterpret_cast<const sockaddr*>(&storage);
    EXPECT_EQ(Name(ClassifyAddress(address, length)), Name(expected)) << text;
  }
}

TEST(AddressPolicy, BracketsAreAcceptedAndNamesAreNoAddresses) {
  EXPECT_EQ(ClassifyAddressText("[::1]"), AddressClass::kLoopback);
  EXPECT_FALSE(ClassifyAddressText("localhost").has_value());
  EXPECT_FALSE(ClassifyAddressText("example.com").has_value());
  EXPECT_FALSE(ClassifyAddressText("").has_value());
  EXPECT_FALSE(ClassifyAddressText("1.2.3").has_value());
}

TEST(AddressPolicy, UnknownFamiliesAndShortAddressesAreRefused) {
  sockaddr_storage storage{};
  storage.ss_family = AF_UNIX;
  EXPECT_EQ(ClassifyAddress(reinterpret_cast<const sockaddr*>(&storage), sizeof(storage)),
            AddressClass::kReserved);
  storage.ss_family = AF_INET6;
  EXPECT_EQ(ClassifyAddress(reinterpret_cast<const sockaddr*>(&storage), sizeof(sockaddr_in)),
            AddressClass::kReserved);
  EXPECT_EQ(ClassifyAddress(nullptr, 0), AddressClass::kReserved);
}

}  // namespace
}  // namespace reprise::net
