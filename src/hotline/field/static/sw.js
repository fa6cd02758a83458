// The field page's service worker: keeps the page's own files so that the page opens with no
// network, and never touches the API (/v1/…): actions wait in the page's outbox instead, and a
// cached answer would show a ticket as it was. Network first, so an upgrade is seen at once.
const CACHE = "hotline-field-v1";
const SHELL = [
  "../m",
  "manifest.webmanifest",
  "static/app.js",
  "static/field.css",
  "static/icon-192.png",
  "static/icon-512.png",
].map((path) => new URL(path, self.location).href);
const STATIC = new URL("static/", self.location).href;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

function ours(request) {
  if (request.method !== "GET") return false;
  const url = new URL(request.url);
  url.hash = "";
  url.search = "";
  return SHELL.includes(url.href) || url.href.startsWith(STATIC);
}

self.addEventListener("fetch", (event) => {
  // The scope /m also covers /metrics and the like: only the page's own files are answered here.
  if (!ours(event.request)) return;
  event.respondWith(
    fetch(event.request)
      .then((answer) => {
        if (answer.ok) {
          const copy = answer.clone();
          const url = new URL(event.request.url);
          url.search = "";
          caches.open(CACHE).then((cache) => cache.put(url.href, copy));
        }
        return answer;
      })
      .catch(() => {
        const url = new URL(event.request.url);
        url.search = "";
        url.hash = "";
        return caches.match(url.href).then((hit) => hit || Response.error());
      }),
  );
});
