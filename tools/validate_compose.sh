#!/usr/bin/env bash
# Validate docker-compose.yml against the Compose Specification, without a Docker engine.
#
#   bash tools/validate_compose.sh            exit 0 valid, 1 invalid, 3 no validator installed
#
# Uses every validator present: `docker compose config` (Compose v2 plugin) and Debian's
# `docker-compose` 1.29 (`apt-get install --no-install-recommends docker-compose`), which
# checks the file against the Compose Specification's JSON schema and needs no engine for
# `config`. Variables are read from .env.example (so every required one must be there),
# with the sandbox profile on, so every service is checked.
set -uo pipefail
cd "$(dirname "$0")/.."

args=(--env-file .env.example -f docker-compose.yml --profile sandbox config -q)
ran=()
status=0

# A variable from the caller's environment would win over .env.example: leave them out.
clean_env=(env -u COMPOSE_FILE -u COMPOSE_PROFILES -u COMPOSE_PROJECT_NAME)
while IFS= read -r name; do clean_env+=(-u "$name"); done < <(
  sed -n 's/^\([A-Z][A-Z0-9_]*\)=.*/\1/p' .env.example)

if docker compose version >/dev/null 2>&1; then
  ran+=("docker compose $(docker compose version --short 2>/dev/null)")
  "${clean_env[@]}" docker compose "${args[@]}" || status=1
fi
if command -v docker-compose >/dev/null 2>&1; then
  ran+=("$(docker-compose version --short 2>/dev/null || echo docker-compose)")
  "${clean_env[@]}" docker-compose "${args[@]}" 2>&1 | grep -v "^WARNING: The .* variable is not set" >&2
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi

if [ ${#ran[@]} -eq 0 ]; then
  echo "no Compose validator: apt-get install --no-install-recommends docker-compose" >&2
  exit 3
fi
if [ $status -eq 0 ]; then
  echo "docker-compose.yml: valid (Compose Specification; checked with ${ran[*]})"
else
  echo "docker-compose.yml: INVALID (checked with ${ran[*]})" >&2
fi
exit $status
