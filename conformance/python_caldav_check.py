#!/usr/bin/python3
"""Drives python3-caldav (the Debian package) against a running Kalends.

    /usr/bin/python3 conformance/python_caldav_check.py URL USER OTHER_USER PASSWORD

URL is the bare server address: discovery must work from there. Prints one
line per check, `PASS <name>: <detail>` or `FAIL <name>: <detail>`, then
`N passed, N failed`. Exits 0 when every check passed, 1 otherwise.
Checks keep running after a failure; a step that raises fails the check it
was in and the ones of that step not yet run, with the client's error.
"""
import re
import sys
import uuid
from datetime import date, datetime, timezone
from urllib.parse import unquote

import caldav
from caldav.elements import dav
from caldav.lib import error
import icalendar

URL, USER, OTHER, PASSWORD = sys.argv[1:5]
UTC = timezone.utc
results = []


def check(name, ok, detail=""):
    results.append((name, bool(ok)))
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)


def step(names):
    """Runs a step; if it raises, the checks it had not reported fail with the error."""
    def wrap(fn):
        def run(*args):
            before = len(results)
            try:
                return fn(*args)
            except Exception as e:  # the client's own error, reported as the check's detail
                done = {n for n, _ in results[before:]}
                msg = f"{type(e).__name__}: {' '.join(str(e).split())[:600]}"
                for n in names:
                    if n not in done:
                        check(n, False, msg)
                return None
        return run
    return wrap


def utc(*a):
    return datetime(*a, tzinfo=UTC)


def vcal(body):
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Kalends conformance//python-caldav//EN\r\n" + body + "END:VCALENDAR\r\n"


def vevent(uid, lines):
    return "BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20260101T000000Z\r\n" + "".join(l + "\r\n" for l in lines) + "END:VEVENT\r\n"


WARSAW = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Warsaw\r\n"
    "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
    "END:VTIMEZONE\r\n"
)

run = uuid.uuid4().hex[:8]
UID = {k: f"{k}-{run}@conformance.kalends" for k in ("simple", "weekly", "allday", "warsaw", "transparent", "cancelled", "moved", "dst", "endless", "task", "started", "undated")}
EVENTS = {
    # 2026-03-04 13:00-14:00 UTC
    "simple": vcal(vevent(UID["simple"], ["SUMMARY:Simple", "DTSTART:20260304T130000Z", "DTEND:20260304T140000Z"])),
    # Mondays 09:00-10:00 UTC from 2026-03-02, six times, without 2026-03-16
    "weekly": vcal(vevent(UID["weekly"], ["SUMMARY:Weekly", "DTSTART:20260302T090000Z", "DTEND:20260302T100000Z",
                                          "RRULE:FREQ=WEEKLY;COUNT=6", "EXDATE:20260316T090000Z"])),
    # the whole of 2026-03-20
    "allday": vcal(vevent(UID["allday"], ["SUMMARY:All day", "DTSTART;VALUE=DATE:20260320", "DTEND;VALUE=DATE:20260321"])),
    # 2026-03-30 10:00-11:00 in Warsaw, the day after the switch to summer time: 08:00-09:00 UTC
    "warsaw": vcal(WARSAW + vevent(UID["warsaw"], ["SUMMARY:Warsaw", "DTSTART;TZID=Europe/Warsaw:20260330T100000",
                                                   "DTEND;TZID=Europe/Warsaw:20260330T110000"])),
    # events free-busy must leave out (RFC 4791 §7.10: TRANSP:TRANSPARENT and STATUS:CANCELLED are not busy)
    "transparent": vcal(vevent(UID["transparent"], ["SUMMARY:Transparent", "DTSTART:20260305T130000Z", "DTEND:20260305T140000Z", "TRANSP:TRANSPARENT"])),
    "cancelled": vcal(vevent(UID["cancelled"], ["SUMMARY:Cancelled", "DTSTART:20260306T130000Z", "DTEND:20260306T140000Z", "STATUS:CANCELLED"])),
    # Mondays 10:00-11:00 in Warsaw from 23 March, three times, across the switch to summer time on 29 March
    "dst": vcal(WARSAW + vevent(UID["dst"], ["SUMMARY:Across DST", "DTSTART;TZID=Europe/Warsaw:20260323T100000",
                                             "DTEND;TZID=Europe/Warsaw:20260323T110000", "RRULE:FREQ=WEEKLY;COUNT=3"])),
    # Fridays 07:00-08:00 UTC from 2027 (after every other window here), without end
    "endless": vcal(vevent(UID["endless"], ["SUMMARY:Endless", "DTSTART:20270101T070000Z", "DURATION:PT1H", "RRULE:FREQ=WEEKLY"])),
    # Mondays 09:00-10:00 UTC 13, 20 and 27 April; the 20 April one moved to Tuesday 5 May 15:00-16:00 UTC
    "moved": vcal(vevent(UID["moved"], ["SUMMARY:Moved", "DTSTART:20260413T090000Z", "DTEND:20260413T100000Z", "RRULE:FREQ=WEEKLY;COUNT=3"])
                  + vevent(UID["moved"], ["SUMMARY:Moved (this one)", "RECURRENCE-ID:20260420T090000Z", "DTSTART:20260505T150000Z", "DTEND:20260505T160000Z"])),
}
def vtodo(uid, lines):
    return vcal("BEGIN:VTODO\r\nUID:" + uid + "\r\nDTSTAMP:20260101T000000Z\r\n" + "".join(l + "\r\n" for l in lines) + "END:VTODO\r\n")


TASK = vtodo(UID["task"], ["SUMMARY:Call the customer", "DUE:20260310T170000Z", "STATUS:NEEDS-ACTION"])
# for the VTODO rows of RFC 4791 §9.9: one with only a start, one with no date at all
TASKS = {"started": vtodo(UID["started"], ["SUMMARY:Started", "DTSTART:20260312T090000Z"]),
         "undated": vtodo(UID["undated"], ["SUMMARY:Undated"])}


def client(user):
    return caldav.DAVClient(url=URL, username=user, password=PASSWORD)


def comp(obj, name="VEVENT"):
    cal = icalendar.Calendar.from_ical(obj.data)
    return [c for c in cal.walk() if c.name == name]


def dt(v):
    """An iCalendar DTSTART/RECURRENCE-ID value as comparable text: UTC 'YYYYMMDDTHHMMSSZ', or 'YYYYMMDD' for a date."""
    v = v.dt if hasattr(v, "dt") else v
    if isinstance(v, datetime):
        if v.tzinfo is None:
            return v.strftime("%Y%m%dT%H%M%S")
        return v.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return v.strftime("%Y%m%d")


ctx = {}
KEY = {v: k for k, v in UID.items()}


def keys(objs):
    """Which of this run's objects a search returned, by their key ("simple", "weekly", ...), sorted."""
    return sorted(KEY.get(str(c["UID"]), "other") for o in objs for c in comp(o))


@step(["discovery", "calendar-home"])
def discovery():
    c = client(USER)
    p = c.principal()
    check("discovery", str(p.url).rstrip("/").endswith(f"/dav/principals/{USER}"), f"principal {p.url} found from {URL}")
    home = p.calendar_home_set
    check("calendar-home", str(home.url).rstrip("/").endswith(f"/dav/calendars/{USER}"), f"calendar-home-set {home.url}")
    ctx["client"], ctx["principal"] = c, p


@step(["list-calendars", "task-list"])
def calendars():
    cals = ctx["principal"].calendars()
    comps = {str(c.url): c.get_supported_components() for c in cals}
    events = [c for c in cals if "VEVENT" in comps[str(c.url)] and str(c.url).rstrip("/").endswith("/calendar")]
    tasks = [c for c in cals if "VTODO" in comps[str(c.url)] and str(c.url).rstrip("/").endswith("/tasks")]
    check("list-calendars", len(events) == 1, f"{len(cals)} calendars: " + ", ".join(f"{u} {'/'.join(v)}" for u, v in comps.items()))
    check("task-list", len(tasks) == 1, "a task list (VTODO) beside the event calendars")
    ctx["cal"], ctx["tasks"] = events[0], tasks[0]


@step(["make-calendar", "rename-calendar", "delete-calendar"])
def calendar_lifecycle():
    p = ctx["principal"]
    made = p.make_calendar(name="Conformance", cal_id=f"conformance-{run}", supported_calendar_component_set=["VEVENT"])
    listed = {str(c.url): c for c in p.calendars()}
    there = listed.get(str(made.url))
    check("make-calendar", there is not None and there.get_display_name() == "Conformance" and there.get_supported_components() == ["VEVENT"],
          f"MKCALENDAR {made.url}: " + (f"listed as {there.get_display_name()!r} for {there.get_supported_components()}" if there else "not listed"))
    made.set_properties([dav.DisplayName("Renamed by python-caldav")])
    name = caldav.Calendar(client=ctx["client"], url=made.url).get_display_name()
    check("rename-calendar", name == "Renamed by python-caldav", f"PROPPATCH displayname, read back {name!r}")
    made.delete()
    gone = str(made.url) not in [str(c.url) for c in p.calendars()]
    check("delete-calendar", gone, f"DELETE {made.url}: {'no longer' if gone else 'still'} listed")


@step(["create-" + k for k in EVENTS])
def create_events():
    cal = ctx["cal"]
    ctx["events"] = {}
    for k, ics in EVENTS.items():
        ev = cal.save_event(ics)
        back = cal.event_by_url(ev.url)
        back.load()
        got = comp(back)
        ok = len(got) == (2 if k == "moved" else 1) and all(str(c["UID"]) == UID[k] for c in got)
        detail = f"{ev.url}"
        if ok and k == "weekly":
            ok = "RRULE" in got[0] and "EXDATE" in got[0]
            detail += " keeps RRULE and EXDATE"
        if ok and k == "allday":
            ok = dt(got[0]["DTSTART"]) == "20260320" and isinstance(got[0]["DTSTART"].dt, date) and not isinstance(got[0]["DTSTART"].dt, datetime)
            detail += f" DTSTART {dt(got[0]['DTSTART'])} stays a DATE"
        if ok and k == "warsaw":
            ok = got[0]["DTSTART"].params.get("TZID") == "Europe/Warsaw" and dt(got[0]["DTSTART"]) == "20260330T080000Z"
            detail += f" DTSTART TZID={got[0]['DTSTART'].params.get('TZID')} = {dt(got[0]['DTSTART'])}"
        check("create-" + k, ok, detail)
        ctx["events"][k] = ev


@step(["create-task", "task-pending", "task-completed"])
def task():
    tasks = ctx["tasks"]
    t = tasks.save_todo(TASK)
    pending = [str(x.icalendar_instance.walk("VTODO")[0]["UID"]) for x in tasks.todos()]
    check("create-task", UID["task"] in pending, f"{t.url}; todos() lists {len(pending)}")
    check("task-pending", pending.count(UID["task"]) == 1, "the pending task is listed once")
    t.complete()
    pending = [str(x.icalendar_instance.walk("VTODO")[0]["UID"]) for x in tasks.todos()]
    everything = [str(x.icalendar_instance.walk("VTODO")[0]["UID"]) for x in tasks.todos(include_completed=True)]
    check("task-completed", UID["task"] not in pending and UID["task"] in everything,
          f"after complete(): pending {len(pending)}, with completed {len(everything)}")


@step(["search-todo-range"])
def todo_range():
    tasks = ctx["tasks"]
    for ics in TASKS.values():
        tasks.save_todo(ics)
    got = {}
    ranges = {"16-17Z on 10 March, ending at the due time": (utc(2026, 3, 10, 16), utc(2026, 3, 10, 17)),
              "17-18Z on 10 March, starting at the due time": (utc(2026, 3, 10, 17), utc(2026, 3, 10, 18)),
              "09-10Z on 12 March, from the start": (utc(2026, 3, 12, 9), utc(2026, 3, 12, 10))}
    for name, (a, b) in ranges.items():
        got[name] = sorted(KEY.get(str(c["UID"]), "other") for o in tasks.search(todo=True, include_completed=True, start=a, end=b) for c in comp(o, "VTODO"))
    want = {"16-17Z on 10 March, ending at the due time": ["task", "undated"],
            "17-18Z on 10 March, starting at the due time": ["undated"],
            "09-10Z on 12 March, from the start": ["started", "undated"]}
    check("search-todo-range", got == want, f"RFC 4791 §9.9 VTODO rows (DUE only: start < DUE <= end; DTSTART only: start <= DTSTART < end; no date: always): {got}, want {want}")


def expanded(cal, start, end):
    """A time-range calendar-query with <C:expand>, sent as built by python-caldav, answers read as the server sent them (no client-side expansion)."""
    xml, comp_class = cal.build_search_xml_query(event=True, start=start, end=end, expand=True)
    objs = cal.search(xml=xml, comp_class=comp_class)
    out = []
    for o in objs:
        for c in comp(o):
            out.append((str(c["UID"]), c))
    return out


@step(["search-range", "expand-weekly", "expand-no-rules", "expand-utc"])
def search():
    cal = ctx["cal"]
    found = cal.search(event=True, start=utc(2026, 3, 1), end=utc(2026, 3, 17))
    uids = keys(found)
    want = sorted(["simple", "weekly", "transparent", "cancelled"])
    check("search-range", uids == want, f"1-17 March: {uids}, want {want}")
    inst = expanded(cal, utc(2026, 3, 1), utc(2026, 4, 30))
    weekly = sorted(dt(c["RECURRENCE-ID"]) if "RECURRENCE-ID" in c else "none" for u, c in inst if u == UID["weekly"])
    want = ["20260302T090000Z", "20260309T090000Z", "20260323T090000Z", "20260330T090000Z", "20260406T090000Z"]
    check("expand-weekly", weekly == want, f"instances {weekly}, want {want} (6 weekly, 16 March excluded)")
    rules = [u for u, c in inst if any(p in c for p in ("RRULE", "RDATE", "EXDATE", "EXRULE"))]
    check("expand-no-rules", not rules, "RFC 4791 §9.6.5: expanded components carry no RRULE/RDATE/EXDATE" + (f"; found in {rules}" if rules else ""))
    warsaw = [c for u, c in inst if u == UID["warsaw"]]
    start = warsaw[0]["DTSTART"] if warsaw else None
    ok = len(warsaw) == 1 and start.params.get("TZID") is None and start.to_ical().decode().endswith("Z") and dt(start) == "20260330T080000Z"
    check("expand-utc", ok, "RFC 4791 §9.6.5: the Warsaw event expanded to UTC: " + (start.to_ical().decode() + (f" TZID={start.params.get('TZID')}" if start.params.get("TZID") else "") if start is not None else "missing"))


@step(["search-timezone", "search-allday"])
def search_tz():
    cal = ctx["cal"]
    hit = [str(comp(o)[0]["UID"]) for o in cal.search(event=True, start=utc(2026, 3, 30, 8, 15), end=utc(2026, 3, 30, 8, 45))]
    miss = [str(comp(o)[0]["UID"]) for o in cal.search(event=True, start=utc(2026, 3, 30, 9, 15), end=utc(2026, 3, 30, 9, 45))]
    check("search-timezone", UID["warsaw"] in hit and UID["warsaw"] not in miss,
          f"10:00 Warsaw summer time is 08:00Z: 08:15-08:45Z {'finds' if UID['warsaw'] in hit else 'misses'} it, 09:15-09:45Z {'finds' if UID['warsaw'] in miss else 'misses'} it")
    hit = [str(comp(o)[0]["UID"]) for o in cal.search(event=True, start=utc(2026, 3, 20, 11), end=utc(2026, 3, 20, 12))]
    miss = [str(comp(o)[0]["UID"]) for o in cal.search(event=True, start=utc(2026, 3, 21, 11), end=utc(2026, 3, 21, 12))]
    check("search-allday", UID["allday"] in hit and UID["allday"] not in miss, f"20 March 11-12Z: {len(hit)} found; 21 March 11-12Z: {len(miss)} found")


@step(["expand-dst", "search-no-end"])
def search_dst():
    cal = ctx["cal"]
    inst = sorted(dt(c["DTSTART"]) for u, c in expanded(cal, utc(2026, 3, 20), utc(2026, 4, 30)) if u == UID["dst"])
    want = ["20260323T090000Z", "20260330T080000Z", "20260406T080000Z"]
    check("expand-dst", inst == want, f"10:00 Warsaw weekly across 29 March, expanded to UTC: {inst}, want {want}")
    far = keys(cal.search(event=True, start=utc(2090, 1, 5), end=utc(2090, 1, 8)))
    check("search-no-end", far == ["endless"], f"a weekly event from 2027 without end, searched in January 2090: {far}")


@step(["search-text"])
def search_text():
    # python-caldav 0.11 asks for collation i;octet, so the case must match; a text-match is a substring match (RFC 4791 §9.7.5)
    got = keys(ctx["cal"].search(event=True, summary="arsa"))
    wrong_case = keys(ctx["cal"].search(event=True, summary="ARSA"))
    check("search-text", got == ["warsaw"] and wrong_case == [], f"SUMMARY text-match \"arsa\" (i;octet): {got}; \"ARSA\": {wrong_case}")


@step(["search-override", "expand-override"])
def search_override():
    cal = ctx["cal"]
    found = lambda a, b: UID["moved"] in [str(c["UID"]) for o in cal.search(event=True, start=a, end=b) for c in comp(o)]
    moved_to, moved_from = found(utc(2026, 5, 5, 14), utc(2026, 5, 5, 17)), found(utc(2026, 4, 20, 8, 30), utc(2026, 4, 20, 9, 30))
    check("search-override", moved_to and not moved_from,
          f"RFC 4791 §9.9 over the overridden instance: 5 May 14-17Z {'finds' if moved_to else 'misses'} it, its old slot 20 April 08:30-09:30Z {'finds' if moved_from else 'misses'} it")
    inst = sorted((dt(c["RECURRENCE-ID"]) if "RECURRENCE-ID" in c else "none", dt(c["DTSTART"]), str(c["SUMMARY"]))
                  for u, c in expanded(cal, utc(2026, 4, 1), utc(2026, 5, 31)) if u == UID["moved"])
    want = [("20260413T090000Z", "20260413T090000Z", "Moved"), ("20260420T090000Z", "20260505T150000Z", "Moved (this one)"), ("20260427T090000Z", "20260427T090000Z", "Moved")]
    check("expand-override", inst == want, f"(RECURRENCE-ID, DTSTART, SUMMARY) {inst}, want {want}")


@step(["free-busy"])
def freebusy():
    fb = ctx["cal"].freebusy_request(utc(2026, 3, 1), utc(2026, 3, 17))
    # FREEBUSY lines read from the text: icalendar 4.0 cannot parse comma-separated periods (RFC 5545 §3.8.2.6)
    text = re.sub(r"\r?\n[ \t]", "", fb.data)
    periods = []
    for m in re.finditer(r"^FREEBUSY([^:\r\n]*):([^\r\n]+)", text, re.M):
        if re.search(r";FBTYPE=(?!BUSY\b)", m.group(1), re.I):
            continue
        for part in m.group(2).split(","):
            s, e = part.split("/")
            s = datetime.strptime(s, "%Y%m%dT%H%M%SZ")
            e = s + icalendar.vDuration.from_ical(e) if e.startswith("P") else datetime.strptime(e, "%Y%m%dT%H%M%SZ")
            periods.append(s.strftime("%Y%m%dT%H%M%SZ") + "/" + e.strftime("%Y%m%dT%H%M%SZ"))
    periods.sort()
    want = ["20260302T090000Z/20260302T100000Z", "20260304T130000Z/20260304T140000Z", "20260309T090000Z/20260309T100000Z"]
    check("free-busy", periods == want, f"BUSY {periods}, want {want} (weekly instances, simple; not transparent, cancelled or the excluded 16 March)")


@step(["sync-initial", "sync-changes-only", "sync-nothing-new"])
def sync():
    cal = ctx["cal"]
    coll = cal.objects_by_sync_token(load_objects=True)
    urls = {str(o.url) for o in coll}
    want = {str(e.url) for e in ctx["events"].values()}
    check("sync-initial", urls == want and bool(coll.sync_token), f"{len(urls)} objects and token {coll.sync_token}")
    token = coll.sync_token
    edited, deleted = ctx["events"]["simple"], ctx["events"]["allday"]
    edited.load()
    edited.icalendar_instance.walk("VEVENT")[0]["SUMMARY"] = icalendar.vText("Simple, edited")
    edited.save()
    deleted.delete()
    changes = cal.objects_by_sync_token(token, load_objects=False)
    got = sorted(str(o.url) for o in changes)
    check("sync-changes-only", got == sorted([str(edited.url), str(deleted.url)]) and changes.sync_token != token,
          f"after one edit and one delete: {got}")
    updated, removed = coll.sync()
    summary = [str(comp(o)[0]["SUMMARY"]) for o in updated]
    again = cal.objects_by_sync_token(coll.sync_token, load_objects=False)
    check("sync-nothing-new", summary == ["Simple, edited"] and [str(o.url) for o in removed] == [str(deleted.url)] and len(list(again)) == 0,
          f"sync(): updated {summary}, deleted {[str(o.url) for o in removed]}; then {len(list(again))} changes")


def status_of(fn):
    try:
        fn()
        return "no error"
    except error.DAVError as e:  # python-caldav puts "<status> <reason>" first in the error's text
        m = re.search(r"\b([1-5]\d\d) [A-Z]", repr(e))
        return m.group(1) if m else type(e).__name__


@step(["other-user-denied"])
def other_user():
    c = client(OTHER)
    mine = ctx["cal"]
    theirs_view = [str(x.url) for x in c.principal().calendars()]
    foreign = caldav.Calendar(client=c, url=mine.url)
    event_url = str(ctx["events"]["weekly"].url)
    get = c.request(event_url).status
    report = status_of(lambda: foreign.events())
    propfind = status_of(lambda: foreign.get_properties([dav.DisplayName()]))
    put = status_of(lambda: foreign.save_event(vcal(vevent(f"intruder-{run}@conformance.kalends", ["SUMMARY:Intruder", "DTSTART:20260303T090000Z", "DTEND:20260303T100000Z"]))))
    delete = c.delete(event_url).status
    still = keys(mine.events())
    denied = lambda s: str(s) in ("403", "404")
    ok = (str(mine.url) not in theirs_view and all(denied(s) for s in (get, report, propfind, put, delete))
          and "other" not in still and "weekly" in still)
    check("other-user-denied", ok, f"{OTHER} on {USER}'s calendar: GET {get}, REPORT {report}, PROPFIND {propfind}, PUT {put}, DELETE {delete}; "
          f"listed to {OTHER}: {str(mine.url) in theirs_view}; {USER}'s calendar now holds {still}")


@step(["company-read-only"])
def company():
    """The organisation's calendar is listed to everyone, readable, and (for a plain user) not writable, and says so."""
    c = ctx["client"]
    cal = [x for x in ctx["principal"].calendars() if "/company~" in str(x.url)][0]
    events = len(cal.events())
    privileges = re.findall(r"<(?:\w+:)?privilege>\s*<(?:\w+:)?([\w-]+)", c.propfind(str(cal.url), '<d:propfind xmlns:d="DAV:"><d:prop><d:current-user-privilege-set/></d:prop></d:propfind>', 0).raw.decode())
    status, body = put(c, str(cal.url) + f"company-{run}.ics", vcal(vevent(f"company-{run}@conformance.kalends", ["SUMMARY:Company", "DTSTART:20260303T090000Z", "DTEND:20260303T100000Z"])))
    writes = [p for p in privileges if p.startswith("write") or p in ("all", "bind", "unbind")]
    check("company-read-only", "read" in privileges and not writes and status == 403,
          f"{cal.url}: {events} events read; current-user-privilege-set {privileges}; PUT {status}")


def put(c, url, ics):
    """A PUT through the client's own HTTP session, for the answer's status and body (python-caldav drops the body of a 403)."""
    r = c.session.put(str(url), data=ics.encode(), headers={"Content-Type": "text/calendar; charset=utf-8"}, auth=c.auth)
    return r.status_code, " ".join(r.text.split())


@step(["uid-conflict-same-calendar", "same-uid-other-user"])
def uids():
    mine = ctx["cal"]
    existing = str(ctx["events"]["weekly"].url)
    status, body = put(ctx["client"], str(mine.url) + f"copy-{run}.ics", EVENTS["weekly"])
    href = re.search(r"<(?:\w+:)?no-uid-conflict>\s*<(?:\w+:)?href>([^<]+)<", body)
    ok = status in (403, 409) and href is not None and unquote(existing).endswith(unquote(href.group(1)))
    check("uid-conflict-same-calendar", ok, f"PUT of a second object with the weekly UID in the same calendar: {status} {body[:300]}; "
          "RFC 4791 §5.3.2.1 wants CALDAV:no-uid-conflict holding the DAV:href of the existing object")

    # Two colleagues invited to the same outside meeting each keep it, with the organizer's UID, in their own calendar
    c = client(OTHER)
    theirs = [x for x in c.principal().calendars() if str(x.url).rstrip("/").endswith("/calendar")][0]
    status, body = put(c, str(theirs.url) + f"invitation-{run}.ics", EVENTS["weekly"])
    in_theirs = UID["weekly"] in [str(comp(o)[0]["UID"]) for o in theirs.events()]
    in_mine = "weekly" in keys(mine.events())
    check("same-uid-other-user", status == 201 and in_theirs and in_mine,
          f"{OTHER} PUTs an event with the UID of one in {USER}'s calendar into their own: {status} {body[:300]}; "
          f"in {OTHER}'s calendar: {in_theirs}, still in {USER}'s: {in_mine} (RFC 4791 §5.3.2.1: a UID is unique within one calendar collection)")


@step(["utf8-href"])
def utf8_href():
    """What litmus' put_get_utf8_segment cannot do in a calendar: a name and a body outside ASCII, through the listing and back."""
    cal = ctx["cal"]
    url = str(cal.url) + f"caf%C3%A9 %E2%82%AC-{run}.ics"
    ics = vcal(vevent(f"utf8-{run}@conformance.kalends", ["SUMMARY:Caf\u00e9 \u20ac", "DTSTART:20260601T100000Z", "DTEND:20260601T110000Z"]))
    caldav.Event(client=ctx["client"], parent=cal, url=url, data=ics).save()
    back = caldav.Event(client=ctx["client"], parent=cal, url=url)
    back.load()
    listed = [unquote(str(o.url)) for o in cal.objects()]
    name = unquote(url.replace(" ", "%20"))
    back.delete()
    gone = name not in [unquote(str(o.url)) for o in cal.objects()]
    kept = "SUMMARY:Caf\u00e9 \u20ac" in back.data
    check("utf8-href", kept and name in listed and gone,
          f"PUT, GET, sync listing and DELETE of .../{name.rsplit('/', 1)[1]}: body kept {kept}, listed {name in listed}, deleted {gone}")


discovery()
if "principal" in ctx:
    calendars()
if "cal" in ctx:
    calendar_lifecycle()
    create_events()
    task()
    todo_range()
    search()
    search_tz()
    search_text()
    search_dst()
    search_override()
    freebusy()
    other_user()
    company()
    sync()
    uids()
    utf8_href()

passed = sum(1 for _, ok in results if ok)
print(f"{passed} passed, {len(results) - passed} failed", flush=True)
sys.exit(0 if passed == len(results) else 1)
