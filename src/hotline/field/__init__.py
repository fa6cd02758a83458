"""The field page (``GET /m``): an installable phone page for grid workers, members and officers.

Like the dashboard, static files shipped in the package (no build step, no CDN): ``index.html``,
one plain ``app.js``, its styles and icons, a web app manifest and a service worker. It signs in
once with a field key (pasted, or from the ``#key=`` fragment of the URL that
``hotline keys create --qr`` encodes), long-polls ``GET /v1/assignments``, shows a ticket with its
timeline and photos, and takes the workflow actions. Every action waits in an outbox in the
phone's IndexedDB with its own ``Idempotency-Key`` until the server has answered it, so a weak
network neither loses an action nor does one twice. The service worker keeps the page's own files
for offline starts and never touches the API.
"""
