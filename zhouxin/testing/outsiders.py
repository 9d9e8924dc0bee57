"""Outsider cases: for every named URL, who must be refused and with what status.

Each app adds a module `zhouxin/<app>/tests/outsiders_<topic>.py` defining

    def cases(personas) -> list[Case]

and the single test in zhouxin/core/tests/test_outsiders.py runs every case and
fails when a URL name of a Zhouxin namespace has no case at all, so a new view
cannot ship without its permission-denied test.  PUBLIC lists the few URLs that
anyone may open, each with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Case:
    url_name: str  # "orgs:area_detail"
    persona: str | None  # None: an anonymous visitor
    url: str  # the concrete URL, usually for an object outside the persona's scope
    expected: frozenset[int] = field(default_factory=lambda: frozenset({403, 404}))
    method: str = "get"
    data: dict | None = None
    # Text that must not appear in the response (e.g. another community's resident's name).
    must_not_contain: tuple[str, ...] = ()


# URL names anyone may open, with the reason.
PUBLIC: dict[str, str] = {
    "set_language": "switches the interface language; changes no data",
    "core:login": "the sign-in page itself; attempts are counted and locked out by django-axes",
    "core:verify_totp": "second sign-in step; without a pending password step it redirects to login",
    "core:enrol_totp": "first sign-in of staff without a device; needs a pending password step, else redirects",
    "core:logout": "ends the caller's own session only (POST); nothing to protect",
    "core:health": "readiness check for monitors: ok/fail per check (database, task queue, audit sealer) with"
                   " latency and ages in seconds; no counts, nothing personal",
    "core:health_live": "liveness check for load balancers: always {\"status\": \"ok\"}; reads nothing",
    "core:metrics": "Prometheus metrics: only with the METRICS_TOKEN bearer token or from METRICS_ALLOWED_IPS"
                    " (default 127.0.0.1); everyone else gets 404. Aggregate counts only, nothing personal",
    "portal:home": "the resident portal's front page: what residents can do; no data",
    "portal:submit": "residents submit requests without an account; rate-limited per IP, consent required",
    "portal:suggest": "category suggestions for the text the visitor typed; reads only the public catalogue",
    "portal:receipt": "shows only the number of the request this session just submitted",
    "portal:track": "asks for number and phone; answers the same whether they match or not; rate-limited",
    "portal:verify": "checks the one-time code of this session's pending lookup; 5 attempts, rate-limited",
    "portal:grids": "the grid names of a community for the location picker; names and codes are public",
    "portal:signin": "residents' sign-in by phone: sends a one-time code; rate-limited per network and phone",
    "portal:signin_code": "checks the sign-in code of this session's pending phone; 5 attempts, rate-limited",
    "portal:signout": "ends the caller's own resident session only (POST); nothing to protect",
    "portal:communities": "public list of streets; names only",
    "portal:street": "public list of a street's communities; names only",
    "portal:community": "a community's public page: office contact and aggregate figures, nothing personal",
    "publishing:public_list": "a community's or street's published notices; published items only, never drafts",
    "publishing:public_detail": "one published notice; drafts, pending and taken-down notices answer 404",
    "cobuild_public:project": "a published co-building project: units, figures, visible comments; no resident data;"
                              " unpublished, planned and cancelled projects answer 404",
    "volunteers_public:wishes": "the micro-wish wall: posted wishes (title, beneficiary as the community wrote it, value,"
                                " community); never who ordered them",
    "volunteers_public:wish": "one wish: public once posted (never the orderer; a member taker only as 在职党员);"
                              " an ordered, rejected or withdrawn wish answers 404 to all but the resident who ordered it",
    "volunteers_public:wish_order": "the resident's own order form; without a resident session it redirects to sign-in",
    "volunteers_public:wishes_mine": "the signed-in resident's own wishes only; without a resident session it redirects",
    "volunteers_public:wish_take": "POST by a signed-in resident only (else sign-in); takes a posted wish, rate-limited",
    "volunteers_public:wish_give_back": "POST; only the account that took the wish may give it back (else refused)",
    "volunteers_public:wish_withdraw": "POST; only the resident who ordered the wish may withdraw it (else refused)",
    "volunteers_public:wish_thank": "POST; only the resident who ordered the wish, once completed (others get 404)",
    "volunteers_public:activities": "published volunteer activities that have not ended: title, time, place, places"
                                    " left; never who signed up",
    "volunteers_public:activity": "one non-draft activity (drafts answer 404): its facts and places left, and for the"
                                  " signed-in resident only their own sign-up",
    "volunteers_public:activity_signup": "POST by a signed-in resident only (else sign-in); signs that account up",
    "volunteers_public:activity_withdraw": "POST; cancels only the signed-in account's own sign-up (else refused)",
    "volunteers_public:me": "the signed-in resident's own sign-ups, hours and points; without a session it redirects",
    "volunteers_public:check": "a scanned check-in code: a forged, expired or other activity's code is refused;"
                               " records only the signed-in account's own sign-up",
    "volunteers_public:register": "the signed-in resident's own 双报到 registration only (found by the account's"
                                  " phone, never by an id in the request); signed-out visitors go to sign-in",
    "funds_public:community": "a community's published 三务公开 items (titles, kinds, dates); every item is public once"
                              " published, nothing personal (content checked for phone and ID numbers)",
    "funds_public:disclosure": "one published 三务公开 item: amounts, categories, vote counts, organisations; never a"
                               " person's name, phone or ID; staff previews are under /funds/ and need funds.disclose",
    "funds_public:content": "the published item's canonical JSON, the bytes its public fingerprint is computed from",
    "funds_public:check": "compares a typed fingerprint with a published item's; reads nothing else, writes nothing",
    "centers_public:centres": "active centres by street: name, level, address, today's opening hours; nothing personal",
    "centers_public:centre": "one active centre: address, desk phone, hours, rooms, service catalogue, upcoming"
                             " events with places left; never a booker or a registrant; inactive centres answer 404",
    "centers_public:room": "one active room: capacity, equipment, hours, its public events; booking needs a resident"
                           " session (the link goes to sign-in); inactive rooms or centres answer 404",
    "centers_public:calendar": "published events of one month (title, time, centre, places left); cancelled events"
                               " never listed; never who registered",
    "centers_public:event": "one event at an active centre: facts, places left, waiting-list size; the signed-in"
                            " resident sees only their own registration; never names or phones",
    "centers_public:event_register": "POST by a signed-in resident only (else sign-in); registers that account only,"
                                     " rate-limited",
    "centers_public:event_cancel_registration": "POST; cancels only the signed-in account's own registration (else"
                                                " sign-in or refused)",
    "centers_public:check": "a scanned event check-in code: a forged, expired or other event's code is refused; checks"
                            " in only the signed-in account's own registration",
    "open311:discovery": "Open311 service discovery: the endpoint, its formats and how to get a key; no data",
    "open311:services": "Open311 service list: the public request catalogue (category names and keywords)",
    "open311:service_definition": "Open311 service definition: the attributes a request of a catalogue item takes",
}
