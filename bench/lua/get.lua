-- (a) a plain GET of the URL's path (GET /healthz).
require "report"
