"""Cross-cutting platform: config, database, auth, tenancy guard, jobs, storage, middleware."""
