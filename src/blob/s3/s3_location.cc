#include "blob/s3/s3_location.h"

#include <cctype>

#include "blob/keys.h"

namespace reprise::blob::s3 {
namespace {

constexpr std::string_view kScheme = "s3://";

Result<S3Location> Invalid(std::string_view url, const std::string& why) {
  return Fail(ErrorCode::kInvalidArgument, "invalid S3 URL '" + std::string(url) + "': " + why);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "%2F" -> "/"; a '%' not followed by two hex digits is kept as it is.
std::string PercentDecoded(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

bool ValidBucket(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (char c : bucket) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-')) {
      return false;
    }
  }
  return std::isalnum(static_cast<unsigned char>(bucket.front())) &&
         std::isalnum(static_cast<unsigned char>(bucket.back()));
}

// "http://host:port" (a trailing '/' allowed) into scheme and host[:port].
bool SplitEndpoint(std::string_view endpoint, S3Location& location) {
  for (std::string_view scheme : {"http", "https"}) {
    std::string start = std::string(scheme) + "://";
    if (endpoint.substr(0, start.size()) != start) continue;
    std::string_view host = endpoint.substr(start.size());
    if (!host.empty() && host.back() == '/') host.remove_suffix(1);
    if (host.empty()) return false;
    for (char c : host) {
      if (c == '/' || c == '?' || c == '#' || c == '@' ||
          std::isspace(static_cast<unsigned char>(c))) {
        return false;
      }
    }
    location.scheme = std::string(scheme);
    location.host = std::string(host);
    return true;
  }
  return false;
}

}  // namespace

std::string S3Location::HostHeader() const { return path_style ? host : bucket + "." + host; }

std::string S3Location::BucketUrl() const {
  return scheme + "://" + HostHeader() + (path_style ? "/" + bucket : "");
}

std::string S3Location::PathOf(std::string_view object_key) const {
  return (path_style ? "/" + bucket + "/" : "/") + std::string(object_key);
}

std::string S3Location::Describe() const {
  std::string out = "s3://" + bucket + (prefix.empty() ? "" : "/" + prefix);
  return out + " (" + scheme + "://" + host + ", " + region +
         (path_style ? ", path style)" : ", virtual-host style)");
}

Result<S3Location> ParseS3Url(std::string_view url, const S3Settings& settings) {
  if (url.substr(0, kScheme.size()) != kScheme) return Invalid(url, "it must start with s3://");
  std::string_view rest = url.substr(kScheme.size());
  std::string_view query;
  if (size_t mark = rest.find('?'); mark != std::string_view::npos) {
    query = rest.substr(mark + 1);
    rest = rest.substr(0, mark);
  }
  S3Location location;
  size_t slash = rest.find('/');
  location.bucket = std::string(rest.substr(0, slash));
  if (!ValidBucket(location.bucket)) {
    return Invalid(url, "the bucket '" + location.bucket +
                            "' must be 3 to 63 lower-case letters, digits, '.' or '-'");
  }
  if (slash != std::string_view::npos) {
    std::string_view prefix = rest.substr(slash + 1);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    if (!prefix.empty()) {
      if (auto valid = ValidateKey(prefix); !valid) {
        return Invalid(url, "the prefix is not a valid key: " + valid.error().message);
      }
      location.prefix = std::string(prefix);
    }
  }
  std::string endpoint = settings.endpoint;
  if (!settings.region.empty()) location.region = settings.region;
  if (settings.path_style) location.path_style = *settings.path_style;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string name = PercentDecoded(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : PercentDecoded(pair.substr(eq + 1));
    if (name == "endpoint") {
      endpoint = value;
    } else if (name == "region") {
      if (value.empty()) return Invalid(url, "region is empty");
      location.region = value;
    } else if (name == "path_style") {
      if (value != "true" && value != "false") {
        return Invalid(url, "path_style must be true or false, not '" + value + "'");
      }
      location.path_style = value == "true";
    } else {
      return Invalid(url, "unknown parameter '" + name + "' (known: endpoint, region, path_style)");
    }
  }
  if (endpoint.empty()) endpoint = "https://s3." + location.region + ".amazonaws.com";
  if (!SplitEndpoint(endpoint, location)) {
    return Invalid(
        url, "endpoint '" + endpoint + "' must be http:// or https:// with a host and no path");
  }
  return location;
}

Result<Credentials> CredentialsFromEnvironment(const EnvLookup& env) {
  auto value = [&](const char* name) {
    const char* found = env(name);
    return std::string(found != nullptr ? found : "");
  };
  Credentials credentials{value("AWS_ACCESS_KEY_ID"), value("AWS_SECRET_ACCESS_KEY"),
                          value("AWS_SESSION_TOKEN")};
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "S3 credentials are missing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  return credentials;
}

Result<Credentials> ResolveCredentials(const S3Settings& settings, const EnvLookup& env) {
  const Credentials& configured = settings.credentials;
  if (configured.access_key_id.empty() && configured.secret_access_key.empty() &&
      configured.session_token.empty()) {
    return CredentialsFromEnvironment(env);
  }
  if (configured.access_key_id.empty() || configured.secret_access_key.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "S3 credentials are incomplete: blob.access_key_id and blob.secret_access_key "
                "are set together (or neither, to use AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY)");
  }
  return configured;
}

}  // namespace reprise::blob::s3
