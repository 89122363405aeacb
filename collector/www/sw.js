// sw.js - the kiosk's service worker (served at /sw.js, scope /).  Keeps the
// kiosk's shell (page, style, scripts, faces) so the kiosk reloads while the
// server is down.  Network first, the cached copy when the network fails;
// API answers are never cached or touched.
{
	const CACHE = "sipas-kiosk-shell-v1";
	const SHELL = [
		"/kiosk", "/static/style.css", "/static/kiosk.js", "/static/queue.js", "/static/send.js",
		"/static/storage.js", "/static/api.js", "/static/i18n.js", "/static/strings.js", "/static/dom.js",
		"/static/faces.svg",
	];
	const TIMEOUT = 4000;

	self.addEventListener("install", (e) => {
		e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
	});

	self.addEventListener("activate", (e) => {
		e.waitUntil(caches.keys()
			.then((keys) => Promise.all(keys.filter((k) => k.startsWith("sipas-") && k !== CACHE).map((k) => caches.delete(k))))
			.then(() => self.clients.claim()));
	});

	const fromNetwork = (req) => new Promise((ok, fail) => {
		const timer = setTimeout(() => fail(new Error("timeout")), TIMEOUT);
		fetch(req, { cache: "no-store" }).then((res) => {
			clearTimeout(timer);
			ok(res);
		}, (err) => {
			clearTimeout(timer);
			fail(err);
		});
	});

	self.addEventListener("fetch", (e) => {
		const url = new URL(e.request.url);
		if (e.request.method !== "GET" || url.origin !== self.location.origin || !SHELL.includes(url.pathname))
			return;
		e.respondWith((async () => {
			const cache = await caches.open(CACHE);
			try {
				const res = await fromNetwork(e.request);
				if (res.ok)
					await cache.put(url.pathname, res.clone());
				return res;
			} catch (err) {
				const hit = await cache.match(url.pathname);
				if (hit)
					return hit;
				throw err;
			}
		})());
	});
}
