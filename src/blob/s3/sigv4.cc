#include "blob/s3/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <span>

#include "core/crypto.h"

namespace reprise::blob::s3 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool IsUnreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Leading and trailing spaces dropped, every run of spaces inside made one space.
std::string TrimmedValue(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// Lower-case names in sorted order, each with its values joined by ','.
std::vector<std::pair<std::string, std::string>> CanonicalHeaders(const NameValues& headers) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : headers) {
    std::string lower = Lower(name);
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& h) { return h.first == lower; });
    if (it == out.end()) {
      out.emplace_back(std::move(lower), TrimmedValue(value));
    } else {
      it->second += "," + TrimmedValue(value);
    }
  }
  // A stable sort keeps the joined values in the order the headers were given.
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::string HexOfSha256(std::string_view text) { return HexLower(Sha256Of(text)); }

std::span<const uint8_t> Bytes(const Sha256Digest& digest) { return digest; }

std::string DateOf(std::string_view amz_date) { return std::string(amz_date.substr(0, 8)); }

}  // namespace

std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (IsUnreserved(byte) || (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0f]);
    }
  }
  return out;
}

std::string AmzDate(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[17];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

std::string CanonicalQuery(const NameValues& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name + "=" + value;
  }
  return out;
}

std::string SignedHeaderNames(const SigV4Request& request) {
  std::string out;
  for (const auto& [name, value] : CanonicalHeaders(request.headers)) {
    if (!out.empty()) out.push_back(';');
    out += name;
  }
  return out;
}

std::string CanonicalRequest(const SigV4Request& request) {
  std::string out = request.method + "\n" + UriEncode(request.path, true) + "\n" +
                    CanonicalQuery(request.query) + "\n";
  for (const auto& [name, value] : CanonicalHeaders(request.headers)) {
    out += name + ":" + value + "\n";
  }
  out += "\n" + SignedHeaderNames(request) + "\n" + request.payload_hash;
  return out;
}

std::string CredentialScope(std::string_view amz_date, const SigningScope& scope) {
  return DateOf(amz_date) + "/" + scope.region + "/" + scope.service + "/aws4_request";
}

std::string StringToSign(std::string_view amz_date, const SigningScope& scope,
                         std::string_view canonical_request) {
  return std::string(kAlgorithm) + "\n" + std::string(amz_date) + "\n" +
         CredentialScope(amz_date, scope) + "\n" + HexOfSha256(canonical_request);
}

Sha256Digest SigningKey(std::string_view secret_access_key, std::string_view amz_date,
                        const SigningScope& scope) {
  std::string secret = "AWS4" + std::string(secret_access_key);
  Sha256Digest date_key =
      HmacSha256(std::span(reinterpret_cast<const uint8_t*>(secret.data()), secret.size()),
                 {DateOf(amz_date)});
  Sha256Digest region_key = HmacSha256(Bytes(date_key), {scope.region});
  Sha256Digest service_key = HmacSha256(Bytes(region_key), {scope.service});
  return HmacSha256(Bytes(service_key), {"aws4_request"});
}

std::string Signature(const SigV4Request& request, const Credentials& credentials,
                      const SigningScope& scope, std::string_view amz_date) {
  Sha256Digest key = SigningKey(credentials.secret_access_key, amz_date, scope);
  std::string to_sign = StringToSign(amz_date, scope, CanonicalRequest(request));
  return HexLower(HmacSha256(Bytes(key), {to_sign}));
}

std::string AuthorizationHeader(const SigV4Request& request, const Credentials& credentials,
                                const SigningScope& scope, std::string_view amz_date) {
  return std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
         CredentialScope(amz_date, scope) + ", SignedHeaders=" + SignedHeaderNames(request) +
         ", Signature=" + Signature(request, credentials, scope, amz_date);
}

void SignRequest(SigV4Request& request, const Credentials& credentials, const SigningScope& scope,
                 std::string_view amz_date) {
  request.headers.emplace_back("x-amz-date", std::string(amz_date));
  request.headers.emplace_back("x-amz-content-sha256", request.payload_hash);
  if (!credentials.session_token.empty()) {
    request.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  std::string authorization = AuthorizationHeader(request, credentials, scope, amz_date);
  request.headers.emplace_back("Authorization", std::move(authorization));
}

std::string PresignQuery(const SigV4Request& request, const Credentials& credentials,
                         const SigningScope& scope, std::string_view amz_date,
                         std::chrono::seconds expires) {
  SigV4Request presigned;
  presigned.method = request.method;
  presigned.path = request.path;
  presigned.payload_hash = std::string(kUnsignedPayload);
  for (const auto& [name, value] : request.headers) {
    if (Lower(name) == "host") presigned.headers.emplace_back(name, value);
  }
  presigned.query = request.query;
  presigned.query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  presigned.query.emplace_back("X-Amz-Credential",
                               credentials.access_key_id + "/" + CredentialScope(amz_date, scope));
  presigned.query.emplace_back("X-Amz-Date", std::string(amz_date));
  presigned.query.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
  if (!credentials.session_token.empty()) {
    presigned.query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  presigned.query.emplace_back("X-Amz-SignedHeaders", "host");
  std::string signature = Signature(presigned, credentials, scope, amz_date);
  return CanonicalQuery(presigned.query) + "&X-Amz-Signature=" + signature;
}

}  // namespace reprise::blob::s3
