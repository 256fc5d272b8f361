"""What each field and parameter of the API means, once per name: the OpenAPI
document takes a description from here wherever the model or route gave none
(`Schema.field` first, then the bare name). A test fails on a field or parameter
left without one, so a new name gets its words here."""

from __future__ import annotations

from domain.time_bounds import FIRST_MONTH, LAST_MONTH, WINDOW

# The window every time, day and month is checked against (domain/time_bounds.py).
INSTANT = f"RFC 3339 with a UTC offset of at most ±14:00, its day in China within {WINDOW}"

# How a rider's name is shown (api/http/people.py).
PEOPLE_RIDER = ("whole to the rider itself and to the officers of its grids and the admins of its districts, "
                "masked (王*平) to anyone else, 已注销 (Erased) once erased")

WORDS: dict[str, str] = {
    # ids
    "rider_id": "the rider's id (a UUID; a rider's token acts for its own id only)",
    "grid_id": "the grid's id, as `register-grid` returned it",
    "task_id": "the task's id, as `publish-task` or `accept-clue` returned it",
    "clue_id": "the clue's id, as `report-clue` returned it",
    "of_clue_id": "the earlier clue this one repeats",
    "appeal_id": "the appeal's id, as `file-appeal` returned it",
    "piece_id": "the piece of work an award paid for: its task's id",
    "officer_id": "the officer's id, the `sub` of its token",
    "assignee_id": "who handles the appeal (a person's id in the district)",
    "batch_id": "the payout batch this settlement belongs to (settled once)",
    "station_id": "the rider station's id, as `register-station` returned it",
    "RegisterPartner.station_id": "for a partner of kind station: the station it is (its `station_id`)",
    "partner_id": "the partner's id, as `register-partner` returned it (the `sub` of its token)",
    "item_id": "the catalogue item's id, as `list-item` returned it",
    "redemption_id": "the redemption's id, as `redeem-item` returned it",
    # places and names
    "district": "the district's name, e.g. 温江",
    "street": "the street (街道) the grid lies in",
    "community": "the community (社区) the grid lies in",
    "name": "a name as people say it",
    "RegisterRider.name": "the rider's name (personal data: sealed, erasable)",
    "phone": "the rider's phone number (personal data: sealed, erasable)",
    "platform": "the delivery platform the rider works for, e.g. meituan",
    "station": "the rider station (驿站) the rider belongs to",
    "certificate": "the number of the supervisor certificate",
    "location": "where it is: latitude and longitude in degrees (WGS-84)",
    "lat": "latitude in degrees, −90 to 90",
    "lon": "longitude in degrees, −180 to 180",
    "description": "the station as riders see it: name, address, location, opening hours and services",
    "address": "the address as posted, for people to find it",
    "hours": "opening hours as posted, e.g. 07:00-23:00",
    "services": "what the station offers riders, each once: charging, water, canteen, parts, rest",
    "RegisterPartner.kind": "what the partner is: shop, canteen or station",
    # what happened
    "category": "what kind of clue: fake_meal_ready (虚假出餐), unsafe_food, fire_hazard, blocked_fire_lane, "
                "traffic_hazard, elderly_fall, robbery, other",
    "text": "what the person wrote, 1–2,000 visible characters",
    "reason": "why, in words the rider and the auditors will read",
    "note": "the rider's note on the work done",
    "evidence_hashes": "the sha256 of photos the same rider uploaded (POST /v1/photos), at most 4",
    "kind": "what sort of task this is, in the district's words (e.g. 清理消防通道)",
    "Remedy.kind": "none, reinstate_award (pay again what a reversal took), or award_fen (compensation of `fen`)",
    "Subject.kind": "what the appeal is about: clue, task, award, or outside (a platform or merchant dispute)",
    "ReleaseClaim.reason": "why the claim ends: withdrawn (by the rider), expired, reassigned",
    "subject": "what the appeal is about",
    "ref": "the id of the clue, task or award appealed, or a few words for something outside",
    "Subject.period": f"for an award: the month of the account it lives in, YYYY-MM, {FIRST_MONTH} … {LAST_MONTH}",
    "outcome": "upheld or dismissed",
    "remedy": "what is done for the rider if the appeal is upheld",
    "rate_code": "which rate of the district's schedule the task pays",
    # people by name, beside their ids (api/http/people.py)
    "rider_name": f"the rider's name: {PEOPLE_RIDER}",
    "reporter_name": f"the name of the rider who reported it: {PEOPLE_RIDER}",
    "claimant_name": f"the name of the rider holding the claim: {PEOPLE_RIDER}",
    "assignee_name": "the assignee's name in the staff directory; null if not named there",
    "author_name": "the author's name in the staff directory; null if not named there",
    "issued_by_name": "the issuing admin's name in the staff directory; null if not named there",
    "named_by_name": "the naming admin's name in the staff directory; null if not named there",
    "actor_name": f"who acted, by name: an officer or admin from the staff directory, a rider {PEOPLE_RIDER}, "
                  "系统 / The system for the engine; null otherwise",
    "staff_id": "an officer's or admin's id, whole, as their token carries it (e.g. officer-温江-1-1)",
    "named_at": "when the name was given (last given, if renamed)",
    "display_name": "the name pages show for an officer or admin (e.g. 李建国)",
    "NameStaff.role": "grid_officer or district_admin",
    "rates": "rate code → what a piece pays (fen and points) and its kind's name in Chinese and English",
    "Rate.name_zh": "the kind of piece in Chinese, as pages show it (the code never is); null if never named",
    "Rate.name_en": "the kind of piece in English, as pages show it (the code never is); null if never named",
    "claim_ttl_s": "how long a claim holds before the task is open again, in seconds (default 4 hours)",
    "due": f"when the work should be done: {INSTANT}",
    "effective_from": f"from when this schedule applies: {INSTANT}",
    "item": "what the points bought",
    "partner": "who handed it over",
    "valid_from": f"from when the item can be redeemed: {INSTANT}",
    "valid_to": f"until when the item can be redeemed, not included: {INSTANT}",
    "hold_minutes": "how long a redemption holds the item and the points for the rider to collect it, in minutes "
                    "(default 120, at most 7 days)",
    # money and points (whole numbers: fen are hundredths of a yuan)
    "fen": "an amount in fen (1 yuan = 100 fen), a whole number",
    "Rate.fen": "what a piece pays, in fen",
    "Rate.points": "the points a piece earns",
    "cap_day_fen": "the most a rider earns in a day in this district, in fen",
    "cap_month_fen": "the most a rider earns in a month in this district, in fen",
    "points": "a number of points, a whole number",
    "price_points": "the item's price in points, a whole number",
    "expire_after_months": "points earned in a month expire at the end of the month this many months later "
                           "(0: never)",
    "stock": "how many of the item there are to redeem",
    "stock_added": "how many more of the item to add to its stock (default 0)",
    "period": f"a month, YYYY-MM in ASCII digits, {FIRST_MONTH} … {LAST_MONTH} (China time)",
    # the answer to a command
    "position": "the log position of the command's last event: pass it as `?position=` to read your write",
    "result": "what the command made (the new ids) and decided",
    "replayed": "true when this is the first answer again, for a key already used",
    # problems (RFC 9457)
    "Problem.type": "the problem's stable name, urn:gridgov:problem:<code>",
    "Problem.title": "the problem in a few words, in the language asked for (Accept-Language)",
    "Problem.status": "the HTTP status",
    "Problem.detail": "what went wrong in this request, in the language asked for",
    "Problem.facts": "the ids and values involved",
    "Problem.issues": "each invalid field: where, and what is wrong with it",
    # what the queries answer (api/http/responses.py)
    "actor_id": "who did it: a token's `sub`, or `system` for the engine",
    "actor_role": "in what role: rider, grid_officer, district_admin, auditor, service, partner, system",
    "stream_id": "the stream (aggregate) the event belongs to",
    "version": "the event's version in its stream, or a schedule's version",
    "rate_version": "the version of the rate schedule the award was paid under",
    "steps": "the steps, oldest first",
    "payouts": "the payouts that settled the award's month in its district",
    "next": "pass as `after` for the next page; null on the last",
    "tasks": "the tasks",
    "clues": "the clues (in statistics: how many)",
    "appeals": "the appeals",
    "days": "one row per day with money, oldest first",
    "budget": "the month's budget of the district",
    "total": "the sum over the rows",
    "balance": "points available now",
    "balance_fen": "the balance in fen",
    "earned": "points earned in all",
    "redeemed": "points spent by the retired direct redemptions (before holds), in all",
    "expired": "points expired in all",
    "redemptions": "each move of points but earnings (held, spent, released, expired; redeemed before holds), "
                   "oldest first",
    "Points.available": "points the rider can redeem now (not held)",
    "Points.held": "points held by redemptions waiting to be collected",
    "DistrictPoints.available": "points of this district's work the rider can redeem now in its catalogue",
    "Points.spent": "points spent on redemptions collected, in all",
    # the rewards (api/http/rewards.py)
    "partner_name": "the partner's name",
    "partner_kind": "what the partner is: shop, canteen or station",
    "item_name": "the item's name, as its terms said when it was redeemed",
    "item_version": "the version of the item's terms the redemption was priced at",
    "held_at": "when the rider redeemed it and the points were held (UTC)",
    "closed_at": "when it was confirmed, refused or expired (UTC); null while held",
    "Redemption.expires_at": "when the hold runs out if nobody collects the item (UTC)",
    "Station.open": "whether the station is open (not closed)",
    "DistrictStation.open": "whether the station is open (not closed)",
    "PointsPolicy.set_at": "when this version was set (UTC); null when none ever was",
    "CatalogueItem.withdrawn": "whether the item was withdrawn from the catalogue",
    "HandedOut.confirmed": "redemptions the partner confirmed (items handed over)",
    "HandedOut.points_spent": "the points those redemptions spent",
    "HandedOut.refused": "redemptions the partner refused",
    "HandedOut.expired": "redemptions whose hold ran out uncollected",
    "awarded_fen": "fen awarded that day",
    "reversed_fen": "fen reversed that day",
    "since": "the earliest time included (UTC)",
    "published_at": "when it was published (UTC)",
    "reported_at": "when it was reported (UTC)",
    "filed_at": "when it was filed (UTC)",
    "decided_at": "when it was decided (UTC)",
    "updated_at": "when it last changed (UTC)",
    "registered_at": "when the rider registered (UTC)",
    "issued_at": "when it was issued (UTC)",
    "expires_at": "when the claim lapses (UTC)",
    "issued_by": "who issued it",
    "reporter_id": "the rider who reported it",
    "source_clue_id": "the clue the task came from, if any",
    "assignee": "who handles it",
    "duplicate_of": "the earlier clue this one repeats",
    "duplicates": "later clues marked as repeating this one",
    "grids": "the grids the rider is in",
    "districts": "the districts of those grids",
    "suspended": "whether the rider is suspended",
    "erased": "whether the rider's personal data was erased",
    "retired": "whether the grid is retired",
    "median_clue_to_task_s": "median seconds from a clue's report to its task",
    "median_claim_to_verified_s": "median seconds from a claim to its verification",
    "duplicates_rate": "duplicates / clues",
    "flagged_as_likely_duplicates": "clues reported with likely duplicates nearby",
    "appeals_open": "appeals not yet decided",
    "appeals_decided": "appeals decided",
    # query parameters
    "after": "the `next` of the page before (a cursor)",
    "limit": "at most this many in a page",
    "status": "only those in this status",
    "at": f"an instant, {INSTANT}",
    "size": "a checkpoint's tree size",
    "authorization": "Bearer <token>",
    "idempotency-key": "any string up to 200 characters: the same key again returns the first answer",
    "wait_ms": "how long to wait for the read model to reach `position`, in milliseconds",
}

# A command's own shape of a stored one (bounded where the stored one must load anything) reads the same.
for _command_shape, _stored in (("AppealSubject", "Subject"), ("RateTerms", "Rate"), ("RemedyTerms", "Remedy")):
    WORDS.update({f"{_command_shape}.{k.split('.', 1)[1]}": v for k, v in list(WORDS.items())
                  if k.startswith(f"{_stored}.")})


def description(name: str, schema: str | None = None) -> str | None:
    return WORDS.get(f"{schema}.{name}") or WORDS.get(name)
