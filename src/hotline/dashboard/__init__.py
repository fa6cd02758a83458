"""The dashboard page (``GET /dashboard``): a county's figures for people who would rather look.

A static page and one plain ``app.js`` shipped inside the package (no build step, no CDN): it asks
for a viewer API key once, keeps it in the browser's ``localStorage``, and polls the JSON API of
the same origin (``/v1/metrics/*``, ``/v1/grids``, ``/v1/clusters``, ``/v1/categories``). Those
endpoints carry counts and rates only, so the page never has personal data to show. The charts
and the grid map are drawn by Apache ECharts, bundled in ``static/vendor/`` with its licences
(``tools/dashboard/vendor.sh`` refreshes it).
"""
