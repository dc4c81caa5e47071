#!/usr/bin/env bash
# Validate docker-compose.yml (alone, and with deploy/compose.cluster.yml over it) against the
# Compose Specification, without a Docker engine.
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

# docker-compose.yml alone, and with the cluster override laid over it
variants=("-f docker-compose.yml" "-f docker-compose.yml -f deploy/compose.cluster.yml")
ran=()
status=0

# A variable from the caller's environment would win over .env.example: leave them out.
clean_env=(env -u COMPOSE_FILE -u COMPOSE_PROFILES -u COMPOSE_PROJECT_NAME)
while IFS= read -r name; do clean_env+=(-u "$name"); done < <(
  sed -n 's/^\([A-Z][A-Z0-9_]*\)=.*/\1/p' .env.example)

for files in "${variants[@]}"; do
  read -ra file_args <<< "$files"
  args=(--env-file .env.example "${file_args[@]}" --profile sandbox config -q)
  if docker compose version >/dev/null 2>&1; then
    ran+=("docker compose $(docker compose version --short 2>/dev/null)")
    "${clean_env[@]}" docker compose "${args[@]}" || { echo "invalid: $files" >&2; status=1; }
  fi
  if command -v docker-compose >/dev/null 2>&1; then
    ran+=("$(docker-compose version --short 2>/dev/null || echo docker-compose)")
    "${clean_env[@]}" docker-compose "${args[@]}" 2>&1 | grep -v "^WARNING: The .* variable is not set" >&2
    [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "invalid: $files" >&2; status=1; }
  fi
done

if [ ${#ran[@]} -eq 0 ]; then
  echo "no Compose validator: apt-get install --no-install-recommends docker-compose" >&2
  exit 3
fi
if [ $status -eq 0 ]; then
  echo "docker-compose.yml (+ deploy/compose.cluster.yml): valid (Compose Specification; checked with" \
       "$(printf '%s\n' "${ran[@]}" | sort -u | paste -sd, -))"
else
  echo "docker-compose.yml: INVALID (checked with ${ran[*]})" >&2
fi
exit $status
