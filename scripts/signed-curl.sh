#!/usr/bin/env bash
# Sends one signed request (GH-HMAC-SHA256, contract/signing.ts; docs/signed-requests.md) with curl.
# Needs only bash (3.2+), openssl, curl and coreutils.
#
#   GATEHOUSE_SIGNER=acme-relay GATEHOUSE_SIGNER_SECRET=... \
#     scripts/signed-curl.sh METHOD URL [BODY_FILE] [-- CURL_ARGS...]
#
#   scripts/signed-curl.sh POST https://abc123.execute-api.eu-west-1.amazonaws.com/prod/v1/webhooks/stripe \
#     event.json -- -H 'Content-Type: application/json'
#
# The URL's path is signed as written (on API Gateway's default endpoint it starts with the stage). Its query, if
# any, must already be canonical: key=value pairs, each part RFC 3986-encoded (only A-Z a-z 0-9 - . _ ~ literal,
# everything else %XX in uppercase hex, a space as %20, never '+'), sorted by key then value, joined by '&'.
# Anything else exits 2 instead of sending a request the authorizer would refuse.
#
# Environment:
#   GATEHOUSE_SIGNER         the signer name (required)
#   GATEHOUSE_SIGNER_SECRET  its secret (required; never printed)
#   GATEHOUSE_DRY_RUN=1      print the two headers on stdout (and the canonical string on stderr) instead of
#                            calling curl
#   GATEHOUSE_TIMESTAMP      sign at this time (unix seconds) instead of now; for tests
#   GATEHOUSE_NONCE          use this nonce instead of a random one; for tests (a nonce works only once)
#
# Exit status: curl's; 2 for a usage or input error. Note: openssl receives the secret as a command-line argument
# (-hmac), which other users of a shared host can see in the process list while it runs; use the TypeScript
# helper (client/sign-request.ts) there.
set -euo pipefail
export LC_ALL=C

die() {
  printf 'signed-curl: %s\n' "$1" >&2
  exit 2
}

usage() {
  die "usage: GATEHOUSE_SIGNER=<name> GATEHOUSE_SIGNER_SECRET=<secret> $0 METHOD URL [BODY_FILE] [-- CURL_ARGS...]"
}

# --- Arguments ---------------------------------------------------------------------------------------------
[ $# -ge 2 ] || usage
method=$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')
url=$2
shift 2
body_file=
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
  body_file=$1
  shift
fi
if [ $# -gt 0 ]; then
  [ "$1" = "--" ] || usage
  shift
fi
# What is left ("$@") goes to curl as is.

[[ $method =~ ^[A-Z]{1,32}$ ]] || die "METHOD must be an HTTP method name such as GET or POST"

caller=${GATEHOUSE_SIGNER:-}
[ -n "$caller" ] || die "GATEHOUSE_SIGNER is not set (the signer name)"
[[ $caller =~ ^[a-z][a-z0-9-]{1,62}$ ]] ||
  die "GATEHOUSE_SIGNER must be a signer name: 2-63 lowercase letters, digits and dashes, starting with a letter"
[ -n "${GATEHOUSE_SIGNER_SECRET:-}" ] || die "GATEHOUSE_SIGNER_SECRET is not set (the signer's secret)"

if [ -n "$body_file" ]; then
  [ -f "$body_file" ] && [ -r "$body_file" ] || die "BODY_FILE must be a readable regular file"
fi

# --- The URL: scheme://authority/path?query#fragment --------------------------------------------------------
url_re='^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]+)([^?#]*)(\?([^#]*))?(#.*)?$'
[[ $url =~ $url_re ]] || die "URL must be absolute, such as https://api.example.com/prod/v1/things"
scheme=$(printf '%s' "${BASH_REMATCH[1]}" | tr '[:upper:]' '[:lower:]')
path=${BASH_REMATCH[3]}
query=${BASH_REMATCH[5]}
[ "$scheme" = http ] || [ "$scheme" = https ] || die "URL must be http:// or https://"
[ -n "$path" ] || path=/

# The path is signed as written, so it must be sent as written: RFC 3986 path characters only (a space or other
# character a client would encode is refused), and no '.' or '..' segment (clients remove them).
path_re='^(/([A-Za-z0-9._~!$&'\''()*+,;=:@-]|%[0-9A-Fa-f]{2})*)+$'
[[ $path =~ $path_re ]] ||
  die "the URL's path may only have RFC 3986 path characters (percent-encode anything else)"
rest=$path/
while [ -n "$rest" ]; do
  rest=${rest#/}
  segment=${rest%%/*}
  rest=${rest#"$segment"}
  if [[ $segment =~ ^(\.|%2[eE])(\.|%2[eE])?$ ]]; then die "the URL's path may not have a '.' or '..' segment"; fi
done

# --- The query must be canonical ----------------------------------------------------------------------------
# True when a key or value is exactly what encodeRfc3986 makes of its decoding: unreserved characters literal,
# every other byte %XX (uppercase hex), never an escaped unreserved character, and the escapes valid UTF-8.
canonical_part() {
  local s=$1 i=0 n=${#1} need=0 lo=128 hi=191 b
  [[ $s =~ ^([A-Za-z0-9._~-]|%[0-9A-F]{2})*$ ]] || return 1
  while ((i < n)); do
    if [ "${s:i:1}" = "%" ]; then
      b=$((16#${s:i+1:2}))
      i=$((i + 3))
      if ((need > 0)); then # a continuation byte, within the range the lead byte allows
        ((b >= lo && b <= hi)) || return 1
        need=$((need - 1)) lo=128 hi=191
      elif ((b < 128)); then # ASCII: escaped only when it is not unreserved
        if (((b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 45 || b == 46 || b == 95 || b == 126)); then
          return 1
        fi
      elif ((b >= 194 && b <= 223)); then need=1
      elif ((b == 224)); then need=2 lo=160 # no overlong form
      elif ((b == 237)); then need=2 hi=159 # no surrogate
      elif ((b >= 225 && b <= 239)); then need=2
      elif ((b == 240)); then need=3 lo=144 # no overlong form
      elif ((b == 244)); then need=3 hi=143 # nothing past U+10FFFF
      elif ((b >= 241 && b <= 243)); then need=3
      else return 1
      fi
    else
      ((need == 0)) || return 1
      i=$((i + 1))
    fi
  done
  ((need == 0))
}

not_canonical() {
  die "the URL's query is not in canonical form ($1). This script signs the query as written, so write it as the
signature covers it: key=value pairs (key= for no value), each RFC 3986-encoded (only A-Z a-z 0-9 - . _ ~ literal,
every other UTF-8 byte as %XX in uppercase hex: a space is %20, a plus %2B; never '+'), sorted by key, then by
value, joined by '&'. Example: ?a=1&a=x%20y&b=%C3%A9"
}

if [ -n "$query" ]; then
  case $query in *+*) not_canonical "it has a '+': write a space as %20 and a plus as %2B" ;; esac
  prev_key= prev_value= first=1
  rest=$query
  while :; do
    pair=${rest%%&*}
    [[ $pair == *=* ]] || not_canonical "every parameter needs '=' (key= when it has no value)"
    key=${pair%%=*}
    value=${pair#*=}
    canonical_part "$key" || not_canonical "a key is not RFC 3986-encoded as the contract says"
    canonical_part "$value" || not_canonical "a value is not RFC 3986-encoded as the contract says"
    if [ -z "$first" ]; then
      if [[ $key < $prev_key ]] || { [ "$key" = "$prev_key" ] && [[ $value < $prev_value ]]; }; then
        not_canonical "the parameters are not sorted by key, then by value"
      fi
    fi
    first= prev_key=$key prev_value=$value
    [[ $rest == *'&'* ]] || break
    rest=${rest#*&}
  done
fi

# --- Sign ---------------------------------------------------------------------------------------------------
hex64() { # the first 64-hex-digit run of openssl's output (formats differ between OpenSSL and LibreSSL)
  local out
  out=$(cat)
  [[ $out =~ ([0-9a-f]{64}) ]] || die "unexpected output from openssl"
  printf '%s' "${BASH_REMATCH[1]}"
}

if [ -n "$body_file" ]; then
  body_sha256=$(openssl dgst -sha256 -r <"$body_file" | hex64)
else
  body_sha256=$(printf '' | openssl dgst -sha256 -r | hex64)
fi

timestamp=${GATEHOUSE_TIMESTAMP:-$(date +%s)}
[[ $timestamp =~ ^[0-9]{1,12}$ ]] || die "GATEHOUSE_TIMESTAMP must be unix seconds (digits only)"
nonce=${GATEHOUSE_NONCE:-$(openssl rand -hex 16)}
[[ $nonce =~ ^[A-Za-z0-9_-]{16,128}$ ]] || die "GATEHOUSE_NONCE must be 16-128 characters of A-Z a-z 0-9 _ -"

canonical=$(printf '%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s' \
  GH-HMAC-SHA256 "$caller" "$timestamp" "$nonce" "$method" "$path" "$query" "$body_sha256")
signature=$(printf '%s' "$canonical" | openssl dgst -sha256 -hmac "$GATEHOUSE_SIGNER_SECRET" -r | hex64)

authorization="GH-HMAC-SHA256 Caller=$caller, Timestamp=$timestamp, Nonce=$nonce, Signature=$signature"
content_sha256="X-Content-SHA256: $body_sha256"

if [ "${GATEHOUSE_DRY_RUN:-}" = 1 ]; then
  printf 'Authorization: %s\n%s\n' "$authorization" "$content_sha256"
  printf -- '--- canonical string (signed) ---\n%s\n---\n' "$canonical" >&2
  exit 0
fi

# --- Send ---------------------------------------------------------------------------------------------------
# --path-as-is and --globoff: curl sends the path and query exactly as signed.
args=(--globoff --path-as-is -H "Authorization: $authorization" -H "$content_sha256")
if [ "$method" = HEAD ]; then
  args+=(--head)
else
  args+=(-X "$method")
fi
if [ -n "$body_file" ]; then args+=(--data-binary "@$body_file"); fi
exec curl "${args[@]}" "$@" --url "$url"
