// The address check of every outgoing connection made where a client or an owner
// pointed reprise (URL imports, outgoing webhooks): server-side request forgery stops
// here, once, for every libcurl user.
//
// AddressRules says what may be connected to: public addresses always; loopback,
// private, link-local (cloud metadata), CGNAT and the other classes of
// net/address_policy.h only with allow_private_addresses, or when listed in
// allowed_addresses (text such as "127.0.0.1": a test's one loopback server while every
// other private address stays refused). `setting` names the config key that allows
// them, for the refusal's hint.
//
// ConnectGuard applies the rules to the address actually connected to, after DNS
// resolution, in curl's open-socket callback: neither a name resolving to a private
// address nor a DNS rebinding between two lookups gets through, and a refused
// connection sends no byte. The transfer then fails (curl: "couldn't connect") and
// refused() says why in one sentence. CheckHostAddress refuses an IP-literal host at
// once, before any lookup, so a caller can tell its client immediately.
//
// Thread-safety: AddressRules is a value; a ConnectGuard belongs to one transfer.
#pragma once

#include <curl/curl.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "net/address_policy.h"

namespace reprise::net {

struct AddressRules {
  bool allow_private_addresses = false;
  std::vector<std::string> allowed_addresses;
  std::string setting = "allow_private_addresses";  // "[import] allow_private_addresses"

  // Whether `text` (of class `address_class`) may be connected to.
  [[nodiscard]] bool Allows(AddressClass address_class, const std::string& text) const;
  // " (private addresses are refused; set SETTING = true to allow them)"
  [[nodiscard]] std::string Hint() const;
};

// kInvalidArgument "refused to connect to 127.0.0.1 (loopback address) in URL (...hint)"
// when `host` (as in a URL, "[::1]" bracketed or not) is an IP literal the rules refuse;
// a host name, or an allowed literal, passes (names are checked at connect time).
[[nodiscard]] Result<void> CheckHostAddress(std::string_view host, std::string_view url,
                                            const AddressRules& rules);

// The host of `url` as curl reads it ("example.com", "[::1]"); nullopt when curl cannot
// parse the URL or it has no host.
std::optional<std::string> UrlHost(std::string_view url);

// CheckHostAddress on the host of `url`; a URL without a host passes (its caller checks
// the URL's shape).
[[nodiscard]] Result<void> CheckUrlAddress(std::string_view url, const AddressRules& rules);

class ConnectGuard final {
 public:
  // `rules` must outlive the guard; `host` is named in the refusal.
  ConnectGuard(const AddressRules& rules, std::string host)
      : rules_(rules), host_(std::move(host)) {}
  ConnectGuard(const ConnectGuard&) = delete;
  ConnectGuard& operator=(const ConnectGuard&) = delete;

  // Makes every connection of `handle` go through the check; the guard must outlive the
  // handle's transfers.
  void Install(CURL* handle);

  // "refused to connect to 10.0.0.5 (private address) for host internal.example": the
  // first refusal of the transfer, empty when none.
  const std::string& refused() const { return refused_; }

 private:
  static curl_socket_t OpenSocket(void* data, curlsocktype purpose, curl_sockaddr* address);

  const AddressRules& rules_;
  std::string host_;
  std::string refused_;
};

}  // namespace reprise::net
