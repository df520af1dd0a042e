"""What reporters read: always Bahasa Indonesia, whatever language the dispatcher's screen uses."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

# code -> (the text sent, the button's label on the dispatcher's screen)
QUICK_REPLIES = {
    "received": ("Laporan diterima.", _l("Report received")),
    "share_location": (
        "Mohon bagikan lokasi Anda (tombol lampiran, lalu Lokasi).",
        _l("Please share your location"),
    ),
    "en_route": ("Petugas sedang menuju lokasi.", _l("Officers are on their way")),
    "are_you_safe": ("Apakah Anda aman?", _l("Are you safe?")),
}


def quick_reply(code: str) -> str | None:
    found = QUICK_REPLIES.get(code)
    return found[0] if found else None


def automatic(kind: str, number: str | None = None) -> str:
    """The text of an automatic update (``ack``, ``ticket``, ``en_route``, ``closed``)."""
    center = current_app.config["CALLCENTER_WA_CENTER_NAME"]
    ref = f" (laporan {number})" if number else ""
    if kind == "ack":
        return (
            f"{center}: pesan Anda sudah kami terima dan segera ditanggapi petugas"
            f"{ref}. Dalam keadaan darurat, telepon 110."
        )
    if kind == "ticket":
        return f"{center}: laporan Anda tercatat dengan nomor {number}."
    if kind == "en_route":
        return f"{center}: petugas sedang menuju lokasi{ref}."
    if kind == "closed":
        return f"{center}: laporan selesai{ref}. Terima kasih telah melapor."
    raise ValueError(kind)
