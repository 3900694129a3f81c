# The shared part of the command line's end-to-end scripts (sourced):
#   e2e_begin NAME   a work directory removed on exit, entered; FAILURES=0
#   ok ARGS...       runs edgegen, expecting success
#   fails CODE TEXT ARGS...  runs edgegen, expecting exit CODE and an
#                    "edgegen: error: " line containing TEXT on stderr
#   absent FILE|GLOB...  no such file (the outputs of failed commands)
#   e2e_end WHAT     the summary line; exit 1 if anything failed
# Each script sets EDGEGEN (the binary) before calling them.

e2e_begin() {
  WORK=$(mktemp -d "/tmp/edgegen_$1.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  cd "$WORK" || exit 1
  FAILURES=0
}

fail() { echo "FAIL: $*"; FAILURES=$((FAILURES + 1)); }

ok() { "$EDGEGEN" "$@" > last.out 2> last.err || { fail "edgegen $*"; cat last.err; }; }

fails() {
  local code=$1 text=$2; shift 2
  "$EDGEGEN" "$@" > last.out 2> last.err
  local got=$?
  [ "$got" = "$code" ] || fail "edgegen $* exited $got, expected $code"
  grep -qF -- "$text" last.err || { fail "edgegen $*: stderr lacks '$text'"; cat last.err; }
  grep -q "^edgegen: error: " last.err || fail "edgegen $*: stderr does not start with 'edgegen: error: '"
}

# Unquoted on purpose: an argument may be a glob ("out.* .out.*").
absent() { for f in $*; do [ -e "$f" ] && fail "$f exists after a failure"; done; return 0; }

e2e_end() {
  if [ "$FAILURES" -ne 0 ]; then echo "$1: $FAILURES failure(s)"; exit 1; fi
  echo "$1: all passed"
}
