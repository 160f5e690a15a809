"""A realistic demo: one Africa round table, mid-way through, with ~20 delegations present.

Everything is written through the same paths as live use (the capture grammar, the store), so the
demo doubles as an end-to-end check of the foundation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from roundtable.model import Country

DEMO_EVENT = "Heads of National Bureaux Conference 2026 (demo)"
DEMO_TZ = "Europe/Paris"  # the venue, Lyon (issue 24)

PRESENT = [
    "GH", "NG", "KE", "ZA", "SN", "CI", "CM", "ET", "TZ", "UG",
    "ZM", "ZW", "RW", "BJ", "TG", "ML", "NE", "BF", "AO", "MZ",
]  # fmt: skip
APOLOGIES = ["NA", "BW", "MW"]
ABSENT = ["SS", "ER", "CF"]

DELEGATES = {
    "GH": ["ACP K. Mensah"],
    "NG": ["DCP A. Okafor", "Supt. F. Bello"],
    "KE": ["SSP J. Wanjiru"],
    "ZA": ["Brig. T. Nkosi"],
    "SN": ["Commissaire M. Diop"],
    "CI": ["Commissaire A. Kouassi"],
    "ET": ["Cmdr. H. Tesfaye"],
    "ZM": ["Ms. C. Banda"],
}

# (agenda position, quick-capture line) — positions follow the built-in Africa plan.
CAPTURES: list[tuple[int, str]] = [
    (0, "Facilitator welcomed the heads of bureau and recalled the time boxes"),
    (0, "/note Agenda adopted without amendment"),
    (1, "/note Delegation of Ghana reports a 30 % rise in requests through the secure network @GH"),
    (1, "/issue Synthetic drug routes via West African ports @GH @NG @SN #drugs !high"),
    (1, "/issue Container screening capacity below need at transshipment hubs @TG @BJ #drugs"),
    (
        1,
        "/issue Online romance and business e-mail fraud targeting the diaspora @NG @GH "
        "#cybercrime #fraud",
    ),
    (1, "/note Kenya described a joint port control unit that halved clearance times @KE"),
    (
        1,
        "/issue Illicit gold flows financing armed groups in the Sahel @ML @NE @BF "
        "#financial-crime",
    ),
    (1, "/issue Trafficking in persons along the central Mediterranean route @NE @ML #trafficking"),
    (
        1,
        "/need Access to the stolen motor vehicle database at land borders @ZM @ZW @MZ #vehicles "
        "!medium",
    ),
    (1, "/note Uganda stressed the link between wildlife crime and firearms @UG #wildlife"),
    (1, "/issue Firearms diverted from national stockpiles @CM @CF #firearms"),
    (1, "/note South Africa offered to share its cyber-forensics curriculum @ZA #cybercrime"),
    (1, "/issue Counterfeit medicines sold through social media @CI @SN #counterfeit"),
    (1, "/note Rwanda reported full connection of border posts to the secure network @RW"),
    (2, "/issue Cocaine transiting by air couriers through regional hubs @ET @KE #drugs"),
    (2, "/need Training on container profiling for port police units @GH @TG @BJ #drugs !high"),
    (
        2,
        "/need Precursor chemical identification kits for customs and police @NG @CI #drugs "
        "!medium",
    ),
    (2, "/decide Recommend a West African port intelligence working group #drugs"),
    (2, "/action Circulate the list of port focal points owner:@GH due:2026-12-15 #drugs"),
    (
        2,
        "/action Propose terms of reference for the port working group owner:@SN "
        "due:2027-01-31 #drugs",
    ),
    (2, "/note Nigeria described recent seizures of methamphetamine precursors @NG #drugs"),
    (2, "/issue Use of fishing vessels for maritime drug transfers @SN @GH #drugs #maritime"),
    (
        2,
        "/need Maritime domain awareness data shared between coastal states @SN @GH @CI "
        "#maritime !medium",
    ),
    (
        2,
        '/action Share the maritime seizure dataset with the Secretariat owner:"Drugs unit" '
        "due:2027-02-28 #maritime",
    ),
    (2, "/park Harmonised sentencing for drug couriers across the region #drugs"),
    (3, "/issue Ransomware attacks on hospitals and ministries @KE @ZA @UG #cybercrime !high"),
    (3, "/issue Mobile money fraud and SIM swap schemes @KE @TZ @UG @RW #cybercrime #fraud"),
    (3, "/need Training on cyber forensics for bureau staff @ZM @ZW @MZ #cybercrime !high"),
    (3, "/need Digital forensics laboratories with licensed tools @ET @TZ #cybercrime !high"),
    (
        3,
        "/need 24/7 point of contact for urgent data preservation requests @KE @ZA #cybercrime "
        "!medium",
    ),
    (3, "/decide Recommend joining the regional cybercrime operations desk #cybercrime"),
    (3, "/action Nominate a national cyber focal point owner:region due:2026-12-31 #cybercrime"),
    (
        3,
        "/action Organise a cyber-forensics course for francophone bureaux owner:@ZA "
        "due:2027-03-15 #cybercrime",
    ),
    (3, "/note Tanzania reported a new cybercrime unit within the bureau @TZ #cybercrime"),
    (3, "/issue Sextortion networks targeting minors @CI @BJ #cybercrime #child-abuse !high"),
    (
        3,
        "/need Access to the child sexual exploitation image database @CI @BJ @SN #child-abuse "
        "!high",
    ),
    (
        3,
        '/action Connect two more bureaux to the image database owner:"Crimes against children '
        'unit" due:2027-02-15 #child-abuse',
    ),
    (
        3,
        "/note Cameroon noted slow responses to data requests from service providers @CM "
        "#cybercrime",
    ),
    (
        3,
        "/issue Cryptocurrency used to launder fraud proceeds @NG @ZA #financial-crime #cybercrime",
    ),
    (3, "/need Blockchain analysis tools and training @NG @ZA @KE #financial-crime !medium"),
    (3, "/park Legal basis for cross-border e-evidence requests #cybercrime"),
    (
        4,
        "/issue Cross-border movement of illicit firearms in the Great Lakes @UG @RW @TZ #firearms",
    ),
    (4, "/need Firearms tracing training for investigators @UG @RW #firearms !medium"),
    (4, "/need Ballistic information network access @KE @UG #firearms !low"),
    (4, "/decide Recommend national firearms focal points report seizures monthly #firearms"),
    (
        4,
        "/action Report firearms seizures to the regional desk each month owner:region "
        "due:2027-01-15 #firearms",
    ),
    (4, "/note Angola described a weapons amnesty that recovered 4,000 firearms @AO #firearms"),
    (4, "/issue Fugitives using forged travel documents @AO @MZ #fugitives"),
    (4, "/need Document verification equipment at airports @AO @MZ @ZW #fugitives !medium"),
    (4, "/action Issue notices for the fugitives discussed owner:@AO due:2026-12-20 #fugitives"),
    (4, "/action Update the regional fugitive list #fugitives"),
    (4, "/note Mozambique asked for support on a maritime piracy case @MZ #maritime"),
    (5, "/need Interpretation for francophone delegations at regional meetings @BJ @TG @NE !low"),
    (5, "/need Secure network bandwidth upgrade for smaller bureaux @NE @BF @ML !high"),
    (5, "/decide Recommend that regional needs be reported to the Secretariat twice a year"),
    (5, "/note Needs were ranked by show of hands; training and data access came first"),
    (5, "/action Compile the ranked needs for the Secretariat owner:@KE due:2026-12-10"),
    (6, "/note Open actions were read back and owners confirmed"),
    (6, '/action Confirm dates of the next regional round table owner:"Regional bureau"'),
]

SUMMARIES = {
    1: "The round table heard a statement from each delegation present on the main crime "
    "threats in its country since the last conference.",
}


def create_demo(store, roster: Mapping[str, Country]) -> str:
    """Create the demo event (or reuse it) and a new, half-run Africa session in it."""
    import sessions as plans
    from roundtable.capture import parse_line

    event = store.find_event(DEMO_EVENT) or store.create_event(
        DEMO_EVENT, venue="Lyon", starts="2026-11-24", ends="2026-11-26", tz=DEMO_TZ
    )
    if not event.tz:  # a demo event made before zones: held in Lyon all the same
        store.set_event_zone(event.id, DEMO_TZ)
    plan = plans.plan_for_region("africa")
    session = store.create_session(
        event.id,
        "africa",
        plan.title,
        plan.to_agenda(),
        room="Salle Rhône 2",
        date="2026-11-25",
        facilitator="Ms. A. Diallo",
        rapporteur="Mr. P. Owusu",
        plan=plan.name,
    )
    with store.open_session(session.id) as ss:
        ss.update("session", session.id, status="running", opened_at=_iso(9, 0))
        for code in PRESENT:
            ss.set_attendance(code, "present", DELEGATES.get(code, []))
        for code in APOLOGIES:
            ss.set_attendance(code, "apologies")
        for code in ABSENT:
            ss.set_attendance(code, "absent")
        ss.update("session", session.id, attendance_confirmed=True)
        agenda = ss.records("agenda_item")
        for position, text in SUMMARIES.items():
            ss.update("agenda_item", agenda[position].id, summary=text)
        tour = next((i for i in agenda if i.item_kind == "tour"), agenda[min(1, len(agenda) - 1)])
        for n, code in enumerate(PRESENT):
            ss.add_speech(
                code,
                "tour",
                95 + (n * 37) % 60,
                _iso(9, 15 + n * 2),
                agenda_item=tour.id,
                passed=code in ("NE", "BF"),
            )
        for n, code in enumerate(("NG", "KE", "SN", "ZA")):
            ss.add_speech(code, "queue", 60 + n * 25, _iso(10, 10 + n * 3))
        current = None
        for position, line in CAPTURES:
            item = agenda[min(position, len(agenda) - 1)]
            if item.id != current:
                ss.update("session", session.id, current_item=item.id)
                current = item.id
            c = parse_line(line, roster, today=dt.date(2026, 11, 25))
            ss.add_entry(**c.entry_fields())
        done = [e for e in ss.records("entry") if e.entry_kind == "action"][:2]
        for entry in done:
            ss.update("entry", entry.id, status="done")
        ss.update("session", session.id, current_item=agenda[min(3, len(agenda) - 1)].id)
    return session.id


def _iso(hour: int, minute: int) -> str:
    hour += minute // 60
    minute %= 60
    return dt.datetime(2026, 11, 25, hour, minute, tzinfo=dt.UTC).isoformat()
