#include "net/connect_guard.h"

#include <sys/socket.h>

#include <algorithm>

#include <fmt/format.h>

#include "net/curl_handles.h"

namespace reprise::net {

bool AddressRules::Allows(AddressClass address_class, const std::string& text) const {
  if (address_class == AddressClass::kPublic || allow_private_addresses) return true;
  return std::find(allowed_addresses.begin(), allowed_addresses.end(), text) !=
         allowed_addresses.end();
}

std::string AddressRules::Hint() const {
  return " (private addresses are refused; set " + setting + " = true to allow them)";
}

Result<void> CheckHostAddress(std::string_view host, std::string_view url,
                              const AddressRules& rules) {
  auto address_class = ClassifyAddressText(host);
  if (!address_class) return {};
  std::string bare(host.size() >= 2 && host.front() == '[' ? host.substr(1, host.size() - 2)
                                                           : host);
  if (rules.Allows(*address_class, bare)) return {};
  return Fail(ErrorCode::kInvalidArgument,
              fmt::format("refused to connect to {} ({} address) in {}{}", bare,
                          Name(*address_class), url, rules.Hint()));
}

std::optional<std::string> UrlHost(std::string_view url) {
  CurlGlobal();
  CurlUrlPtr parsed(curl_url());
  if (!parsed) return std::nullopt;
  const std::string text(url);
  if (curl_url_set(parsed.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) return std::nullopt;
  char* host = nullptr;
  if (curl_url_get(parsed.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK || host == nullptr) {
    return std::nullopt;
  }
  CurlStringPtr owned(host);
  return std::string(host);
}

Result<void> CheckUrlAddress(std::string_view url, const AddressRules& rules) {
  auto host = UrlHost(url);
  if (!host) return {};
  return CheckHostAddress(*host, url, rules);
}

void ConnectGuard::Install(CURL* handle) {
  curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, &ConnectGuard::OpenSocket);
  curl_easy_setopt(handle, CURLOPT_OPENSOCKETDATA, this);
}

curl_socket_t ConnectGuard::OpenSocket(void* data, curlsocktype /*purpose*/,
                                       curl_sockaddr* address) {
  auto* guard = static_cast<ConnectGuard*>(data);
  const auto* socket_address = &address->addr;
  AddressClass address_class = ClassifyAddress(socket_address, address->addrlen);
  std::string text = AddressText(socket_address, address->addrlen);
  if (!guard->rules_.Allows(address_class, text)) {
    if (guard->refused_.empty()) {
      guard->refused_ = fmt::format("refused to connect to {} ({} address) for host {}", text,
                                    Name(address_class), guard->host_);
    }
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

}  // namespace reprise::net
