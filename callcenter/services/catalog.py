"""The incident catalog a Polri 110 center works with.

Each category has a stable code, labels in Bahasa Indonesia and English, the APCO common
incident type it maps to (APCO/NENA, as used by NENA EIDO), a default priority
(1 = life at risk ... 4 = non-urgent), how many units it needs by default, and whether a unit
is dispatched. The non-dispatch dispositions close the ticket at intake and are never routed.
A category with an agency (``agency``, a code of the agency catalog) is handed to it at intake;
a hand-off-only one (``handoff_only``) sends no police unit: it waits for the agency.
The officer-in-danger category comes only from a unit's emergency button, never from intake.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Category:
    code: str
    label_id: str
    label_en: str
    apco_code: str
    default_priority: int
    dispatch: bool = True
    handoff: str | None = None  # the agency the call is also handed on to, as people say it
    agency: str | None = None  # its code in the agency catalog (models/agencies.py)
    handoff_only: bool = False  # no police unit: handed to the agency, closed when it answers
    keywords: tuple[str, ...] = field(default=())
    default_units: int = 1
    intake: bool = True  # may be chosen when a call is logged (or a unit logs what it found)

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_id

    def to_json(self) -> dict:
        body = {
            "code": self.code,
            "label": {"id": self.label_id, "en": self.label_en},
            "apco_code": self.apco_code,
            "default_priority": self.default_priority,
            "default_units": self.default_units,
            "dispatch": self.dispatch,
            "intake": self.intake,
        }
        if self.handoff:
            body["handoff"] = self.handoff
            body["handoff_agency"] = self.agency
        body["handoff_only"] = self.handoff_only
        return body


EMERGENCY = "officer_emergency"

CATEGORIES: tuple[Category, ...] = (
    Category(
        "traffic_accident_injury",
        "Kecelakaan lalu lintas dengan korban",
        "Traffic accident with injuries",
        "MVAINJY",
        1,
        default_units=2,
        keywords=("laka", "lakalantas"),
    ),
    Category(
        "traffic_accident",
        "Kecelakaan lalu lintas",
        "Traffic accident",
        "MVA",
        2,
        keywords=("laka", "tabrakan"),
    ),
    Category(
        "violent_robbery",
        "Pencurian dengan kekerasan (curas, begal)",
        "Robbery with violence (mugging)",
        "ROBBERY",
        1,
        default_units=2,
        keywords=("curas", "begal", "rampok"),
    ),
    Category(
        "burglary",
        "Pencurian dengan pemberatan (curat, bobol rumah)",
        "Burglary",
        "BURGLARY",
        2,
        keywords=("curat", "maling"),
    ),
    Category(
        "vehicle_theft",
        "Pencurian kendaraan bermotor (curanmor)",
        "Motor vehicle theft",
        "VEHSTLN",
        2,
        keywords=("curanmor", "motor hilang"),
    ),
    Category("theft", "Pencurian", "Theft", "LARCENY", 3, keywords=("copet", "jambret")),
    Category("assault", "Penganiayaan", "Assault", "ASSAULT", 2, keywords=("pukul", "aniaya")),
    Category("fight", "Perkelahian", "Fight", "FIGHT", 2, keywords=("berkelahi", "ribut")),
    Category(
        "brawl",
        "Tawuran",
        "Group brawl (tawuran)",
        "CIVDIS",
        1,
        default_units=2,
        keywords=("tawuran", "geng"),
    ),
    Category(
        "domestic_violence",
        "Kekerasan dalam rumah tangga (KDRT)",
        "Domestic violence",
        "DVA",
        1,
        keywords=("kdrt",),
    ),
    Category(
        "sexual_violence",
        "Kekerasan seksual",
        "Sexual violence",
        "SEXOFFNS",
        1,
        keywords=("cabul", "perkosaan"),
    ),
    Category(
        "weapon",
        "Ancaman senjata / penembakan",
        "Weapon threat or shooting",
        "WEAPON",
        1,
        default_units=2,
        keywords=("pistol", "sajam", "tembak"),
    ),
    Category(
        "kidnapping",
        "Penculikan",
        "Kidnapping",
        "ABDUCTNF",
        1,
        default_units=2,
        keywords=("culik",),
    ),
    Category(
        "bomb_threat", "Ancaman bom", "Bomb threat", "BOMB", 1, default_units=2, keywords=("bom",)
    ),
    Category(
        "fire",
        "Kebakaran (diteruskan ke Damkar)",
        "Fire (handed on to the fire service)",
        "FOTHER",
        1,
        handoff="Damkar",
        agency="damkar",
        keywords=("api", "terbakar"),
    ),
    Category(
        "fire_no_crime",
        "Kebakaran tanpa unsur pidana (Damkar saja)",
        "Fire, no crime involved (fire service only)",
        "FOTHER",
        2,
        handoff="Damkar",
        agency="damkar",
        handoff_only=True,
        keywords=("kebakaran", "damkar"),
    ),
    Category(
        "natural_disaster",
        "Bencana alam (banjir, longsor, gempa)",
        "Natural disaster (flood, landslide, earthquake)",
        "RESCUE",
        1,
        handoff="BPBD",
        agency="bpbd",
        keywords=("banjir", "longsor", "gempa"),
    ),
    Category(
        "medical_emergency",
        "Kedaruratan medis",
        "Medical emergency",
        "SICK",
        1,
        handoff="PSC 119",
        agency="psc119",
        keywords=("sakit", "pingsan", "ambulans"),
    ),
    Category(
        "suicide_attempt",
        "Percobaan bunuh diri",
        "Suicide attempt",
        "SUICIDE",
        1,
        keywords=("bunuh diri",),
    ),
    Category("dead_body", "Penemuan mayat", "Dead body found", "DEATH", 2, keywords=("mayat",)),
    Category(
        "missing_person",
        "Orang hilang",
        "Missing person",
        "SAR",
        2,
        keywords=("hilang", "anak hilang"),
    ),
    Category(
        "election_disturbance",
        "Gangguan Pilkada / pemilu",
        "Election disturbance",
        "DISORD",
        2,
        default_units=2,
        keywords=("pilkada", "pemilu", "tps"),
    ),
    Category(
        "public_disorder",
        "Gangguan ketertiban umum",
        "Public disorder",
        "DISORD",
        3,
        keywords=("keributan", "mabuk"),
    ),
    Category("drugs", "Narkoba", "Drugs", "DRUGS", 3, keywords=("narkoba", "sabu")),
    Category(
        "suspicious",
        "Orang / kendaraan mencurigakan",
        "Suspicious person or vehicle",
        "SUSP",
        3,
        keywords=("curiga",),
    ),
    Category("threats", "Ancaman / teror", "Threats", "THREATS", 3, keywords=("ancam",)),
    Category(
        "animal", "Hewan berbahaya", "Dangerous animal", "ANIMAL", 3, keywords=("ular", "anjing")
    ),
    Category(
        "traffic_hazard",
        "Gangguan lalu lintas / kemacetan",
        "Traffic hazard or jam",
        "THAZ",
        4,
        keywords=("macet", "pohon tumbang"),
    ),
    Category("noise", "Kebisingan", "Noise complaint", "NOISE", 4, keywords=("bising",)),
    Category(
        "power_line",
        "Kabel listrik putus / gangguan PLN",
        "Fallen power line (PLN)",
        "WIRES",
        3,
        handoff="PLN",
        agency="pln",
        handoff_only=True,
        keywords=("listrik", "kabel", "pln"),
    ),
    Category("fraud", "Penipuan", "Fraud", "FRAUD", 4, keywords=("tipu",)),
    Category(
        "assistance",
        "Permintaan bantuan polisi",
        "Request for police assistance",
        "CITASST",
        3,
        keywords=("bantuan", "tolong"),
    ),
    # An officer in danger: made by a unit's emergency button (its units from
    # CALLCENTER_EMERGENCY_UNITS), never chosen at intake.
    Category(
        EMERGENCY,
        "Petugas butuh bantuan",
        "Officer needs assistance",
        "MAYDAY",
        1,
        keywords=("darurat", "panik"),
        default_units=2,
        intake=False,
    ),
    # Non-dispatch dispositions: logged and closed at intake, never routed.
    Category(
        "prank",
        "Panggilan iseng",
        "Prank call",
        "ADMIN",
        4,
        dispatch=False,
        keywords=("iseng", "prank"),
    ),
    Category(
        "silent_call",
        "Panggilan diam",
        "Silent call",
        "911OPN",
        4,
        dispatch=False,
        keywords=("diam", "silent"),
    ),
    Category(
        "information",
        "Informasi / konsultasi",
        "Information or consultation",
        "INFO",
        4,
        dispatch=False,
        keywords=("info", "tanya"),
    ),
    Category(
        "wrong_number",
        "Salah sambung",
        "Wrong number",
        "911H",
        4,
        dispatch=False,
        keywords=("salah sambung",),
    ),
    # The line dropped before anything was said: called back like a silent call.
    Category(
        "dropped",
        "Panggilan terputus",
        "Dropped call",
        "911H",
        4,
        dispatch=False,
        keywords=("terputus", "putus"),
    ),
)
# Dispositions that leave a call-back task (services/callbacks.py).
CALLBACK_DISPOSITIONS = ("silent_call", "dropped")

# How a job ended, for "cleared" and for closing a ticket.
RESOLUTIONS: dict[str, dict[str, str]] = {
    "handled": {"id": "Ditangani di tempat", "en": "Handled at the scene"},
    "secured": {"id": "Pelaku diamankan", "en": "Suspect secured"},
    "report_filed": {"id": "Dibuatkan laporan polisi (LP)", "en": "Police report filed"},
    "mediated": {"id": "Diselesaikan secara kekeluargaan", "en": "Settled by mediation"},
    "referred": {"id": "Diserahkan ke instansi lain", "en": "Handed to another agency"},
    "not_found": {"id": "Tidak ditemukan di TKP", "en": "Nothing found at the scene"},
    "false_report": {"id": "Laporan tidak benar", "en": "False report"},
    "duplicate": {"id": "Duplikat laporan lain", "en": "Duplicate of another report"},
}
# Reasons a unit gives for declining an offer.
DECLINE_REASONS: dict[str, dict[str, str]] = {
    "busy": {"id": "Sedang menangani kejadian lain", "en": "Handling another incident"},
    "too_far": {"id": "Terlalu jauh", "en": "Too far away"},
    "vehicle_problem": {"id": "Kendaraan bermasalah", "en": "Vehicle problem"},
    "end_of_shift": {"id": "Akhir dinas", "en": "End of shift"},
    "other": {"id": "Lainnya", "en": "Other"},
}

BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}
DISPOSITIONS: tuple[str, ...] = tuple(c.code for c in CATEGORIES if not c.dispatch)


def get(code: str) -> Category | None:
    """The category with that code, or None."""
    return BY_CODE.get(code)


def label(code: str, locale: str = "id") -> str:
    category = BY_CODE.get(code)
    return category.label(locale) if category else code
