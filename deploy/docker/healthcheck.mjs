// Container health probe for the Sessiongate image (Docker HEALTHCHECK, compose, Kubernetes exec probes).
//
//   node healthcheck.mjs [url]        (copied to /app/healthcheck.mjs in the image; WORKDIR is /app)
//
// Without an argument it asks the gateway itself, on 127.0.0.1 and $PORT (default 3000), for /bff/user.
// Until the gateway has /healthz and /readyz, "healthy" means "the HTTP server answers without a server
// error": /bff/user says 401/403 to an anonymous caller, which proves the process is up and routing.
// Any status below 500 passes; a 5xx, a refused connection or a timeout fails (exit 1).
const target = process.argv[2] ?? `http://127.0.0.1:${process.env.PORT || 3000}/bff/user`;

try {
  const response = await fetch(target, { redirect: 'manual', signal: AbortSignal.timeout(2500) });
  process.exit(response.status < 500 ? 0 : 1);
} catch {
  process.exit(1);
}
