#!/usr/bin/env bash
# Mutation testing of the files that decide who gets in: tokens, identities, grants, and the
# host's gateway. Each file is run against the tests that pin its rules only, so one file
# takes minutes, not an hour. Not part of .ci/run (see CONTRIBUTING.md, "Mutation testing").
#
#   scripts/mutants.sh                         every file below
#   scripts/mutants.sh simulator/src/kube/authn.rs [more files]
#   scripts/mutants.sh --list                  the files, their package and their tests
#   scripts/mutants.sh FILE -- --jobs 2        anything after `--` goes to cargo mutants
#
# Results go to $MUTANTS_OUT (default target/mutants)/<file>/mutants.out; the last lines
# printed are each file's score: caught (timeouts included) / (caught + missed). Builds go to
# $MUTANTS_TARGET_DIR (default: the usual target directory's name + `-mutants`).
# Needs cargo-mutants: cargo install cargo-mutants --locked
set -euo pipefail
cd "$(dirname "$0")/.."

# file|package|test targets to build|nextest filterset (and/or/not): the tests that pin the
# file's rules. Building only those targets keeps each mutant to one or two crate builds: the
# simulator's rules are pinned by unit tests beside the code, so its files build the lib only.
# A file that decides access belongs here; when one moves, move its line.
SCOPES=(
  "simulator/src/kube/authn.rs|aksflow-simulator|--lib|test(/^kube::/) or test(/^login::/)"
  "simulator/src/kube/rbac.rs|aksflow-simulator|--lib|test(/^kube::/) and not test(/^kube::authn::/)"
  "simulator/src/login/tokens.rs|aksflow-simulator|--lib|test(/^login::/) or test(/^kube::/)"
  "simulator/src/login/instant_tokens.rs|aksflow-simulator|--lib|test(/^login::/)"
  "simulator/src/ids.rs|aksflow-simulator|--lib|test(/^ids::/) or test(/^login::/)"
  "host/src/serve/store.rs|aksflow|--lib|test(/^serve::/)"
  "simulator/src/arm/rbac.rs|aksflow-simulator|--lib --test arm_aks|test(/^arm::/) or binary(arm_aks)"
  "host/src/cloud/gateway.rs|aksflow|--lib|test(/^cloud::/)"
  "host/src/cloud/auth.rs|aksflow|--lib|test(/^cloud::/)"
  "host/src/cloud/recorder.rs|aksflow|--lib|test(/^cloud::/) or test(/^report::/)"
  "host/src/cloud/retry.rs|aksflow|--lib|test(/^cloud::/)"
  "host/src/cloud/egress.rs|aksflow|--lib|test(/^cloud::/)"
  "host/src/cloud/resolver.rs|aksflow|--lib|test(/^cloud::resolver::/)"
  "host/src/cloud/token_client.rs|aksflow|--lib|test(/^cloud::/)"
  "host/src/caps.rs|aksflow|--lib|test(/^caps::/) or test(/^cloud::gateway::/)"
  "host/src/runner/output_files.rs|aksflow|--lib|test(/^runner::output_files::/)"
  "host/src/limits.rs|aksflow|--lib|test(/^limits::/)"
  "host/src/kubelogin/options.rs|aksflow|--lib|test(/^kubelogin::options::/)"
  "host/src/runner/journal.rs|aksflow|--lib|test(/^runner::journal::/) or test(/^runner::turnstile::/)"
  "host/src/faults.rs|aksflow|--lib|test(/^faults::/)"
  "simulator/src/faults/inject.rs|aksflow-simulator|--lib --test faults|binary(faults) or test(/^faults::inject::/)"
  "simulator/src/origin.rs|aksflow-simulator|--lib|test(/^origin::/)"
  "simulator/src/login/verified.rs|aksflow-simulator|--lib|test(/^login::/)"
  "simulator/src/kube/rbac_cache.rs|aksflow-simulator|--lib|test(/^kube::/)"
  "host/src/serve/proxy.rs|aksflow|--lib|test(/^serve::proxy::/)"
  "host/src/redact/mod.rs|aksflow|--lib|test(/^redact::/)"
  "host/src/redact/matcher.rs|aksflow|--lib|test(/^redact::/)"
  "host/src/runner/turnstile.rs|aksflow|--lib|test(/^runner::turnstile::/)"
  "simulator/src/faults/schedule.rs|aksflow-simulator|--lib|test(/^faults::/)"
  "simulator/src/kube/legacy_webhook.rs|aksflow-simulator|--lib|test(/^kube::/)"
  "simulator/src/login/client_credentials.rs|aksflow-simulator|--lib --test entra --test kube_api --test graph|test(/^login::/) or binary(entra) or binary(kube_api) or binary(graph)"
  "simulator/src/kube/x509.rs|aksflow-simulator|--lib|test(/^kube::/)"
  "simulator/src/pki.rs|aksflow-simulator|--lib|test(/^pki::/) or test(/^kube::/)"
  "host/src/cloud/kube_tls.rs|aksflow|--lib|test(/^cloud::/)"
)

scope_of() {
  local line
  for line in "${SCOPES[@]}"; do
    if [[ "${line%%|*}" == "$1" ]]; then
      echo "$line"
      return 0
    fi
  done
  return 1
}

files=()
extra=()
while (($#)); do
  case "$1" in
    --list)
      printf '%s\n' "${SCOPES[@]}" | column -t -s '|'
      exit 0
      ;;
    --) shift; extra=("$@"); break ;;
    *) files+=("$1"); shift ;;
  esac
done
if ((${#files[@]} == 0)); then
  for line in "${SCOPES[@]}"; do files+=("${line%%|*}"); done
fi

command -v cargo-mutants >/dev/null || { echo "cargo-mutants is missing: cargo install cargo-mutants --locked" >&2; exit 2; }
out_root="${MUTANTS_OUT:-target/mutants}"
# cargo-mutants builds each mutant in a scratch copy of the tree. Sharing the usual target
# directory would leave a mutant's artifacts there, newer than your sources, and your next
# `cargo test` would reuse them: so mutants get their own (warm after the first run).
export CARGO_TARGET_DIR="${MUTANTS_TARGET_DIR:-${CARGO_TARGET_DIR:-target}-mutants}"
summary=()
for file in "${files[@]}"; do
  scope="$(scope_of "$file")" || { echo "$file has no test scope in $0: add its line to SCOPES" >&2; exit 2; }
  [[ -f "$file" ]] || { echo "$file does not exist: update its line in SCOPES" >&2; exit 2; }
  IFS='|' read -r _ package targets filter <<<"$scope"
  out="$out_root/${file//\//_}"
  mkdir -p "$out"
  echo "== $file: package $package, tests: $targets -E '$filter'"
  # Exit status 2 (mutants missed) and 3 (timeouts) are results: count them, go on.
  # The targets go to every cargo call, the build as well as the test run.
  target_args=()
  for word in $targets; do target_args+=("--cargo-arg=$word"); done
  cargo mutants --package "$package" --file "$file" --output "$out" "${target_args[@]}" "${extra[@]}" -- -E "$filter" || { rc=$?; [[ $rc == 2 || $rc == 3 ]]; }
  count() { [[ -f "$out/mutants.out/$1.txt" ]] && wc -l <"$out/mutants.out/$1.txt" || echo 0; }
  caught=$(( $(count caught) + $(count timeout) ))
  missed=$(count missed)
  viable=$(( caught + missed ))
  score=$(( viable ? 100 * caught / viable : 100 ))
  summary+=("$file: $caught/$viable caught ($score%), $(count unviable) unviable; missed: $out/mutants.out/missed.txt")
done
printf '%s\n' "${summary[@]}"
