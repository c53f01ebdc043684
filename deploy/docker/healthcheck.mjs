// Container health probe for the Sessiongate image (Docker HEALTHCHECK, compose, Kubernetes exec probes).
//
//   node healthcheck.mjs [url]        (copied to /app/healthcheck.mjs in the image; WORKDIR is /app)
//
// Without an argument it asks the gateway itself, on 127.0.0.1 and $PORT (default 3000), for /healthz
// (liveness). With a URL it asks that (the demo API, which answers 401 to an anonymous caller).
// Any status below 500 passes; a 5xx, a refused connection or a timeout fails (exit 1).
const target = process.argv[2] ?? `http://127.0.0.1:${process.env.PORT || 3000}/healthz`;

try {
  const response = await fetch(target, { redirect: 'manual', signal: AbortSignal.timeout(2500) });
  process.exit(response.status < 500 ? 0 : 1);
} catch {
  process.exit(1);
}
