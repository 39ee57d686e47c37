#!/bin/sh
# First start of the PostgreSQL volume only (docker-entrypoint-initdb.d): the roles Luneo runs as.
#   luneo_app  NOLOGIN, subject to row-level security (migration 0019 grants it the tables);
#   luneo_api  the login of the API and the workers: neither superuser nor BYPASSRLS, and it may only
#              `SET ROLE luneo_app` (LUNEO_DATABASE_ROLE). Migrations run as POSTGRES_USER (the owner).
set -eu
: "${APP_DB_PASSWORD:?set APP_DB_PASSWORD in postgres.env}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v api_password="$APP_DB_PASSWORD" <<'SQL'
SELECT 'CREATE ROLE luneo_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'luneo_app') \gexec
SELECT format('CREATE ROLE luneo_api LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD %L', :'api_password')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'luneo_api') \gexec
GRANT luneo_app TO luneo_api;
SQL
