"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at /open311/v2/.

For 12345 hotlines and other city systems: the dispatch catalogue's leaves are the
services, a POST goes through dispatch's one intake service on the Open311/API channel,
and every read of requests is limited to what the `api_key`'s user may see (an api_key
is a key of an integration token, zhouxin.api.models.ApiToken).

    views.py      the six methods and discovery, JSON and XML
    render.py     one payload → JSON or XML (xml.etree), errors as the spec's arrays
    params.py     reading and checking what the client sent (Open311Error on bad input)
    catalogue.py  services and service definitions from the dispatch catalogue
    selectors.py  jurisdictions, locating a request, the scoped request queries
    services.py   open311_request_submit: the one write
    models.py     Open311Submission (token, media URL), registered in zhouxin/api/models.py
"""
