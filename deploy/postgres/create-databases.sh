#!/bin/sh
# One database per service, each owned by a role of its own that no other role may connect to
# (a service never reads another's tables). Run once by the postgres image, on its first start
# (/docker-entrypoint-initdb.d), with the passwords deploy/compose.yaml passes from deploy/.env.
set -eu
for service in auth users payments notifications; do
  variable="$(echo "$service" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
  eval "password=\${$variable:-}"
  if [ -z "$password" ]; then
    echo "create-databases.sh: $variable is empty: set it in deploy/.env (deploy/compose.env.example)" >&2
    exit 1
  fi
  psql -v ON_ERROR_STOP=1 --username=postgres --dbname=postgres \
    -v role="paymesh_$service" -v password="$password" <<'SQL'
create role :"role" login password :'password';
create database :"role" owner :"role";
revoke all on database :"role" from public;
SQL
done
