"""Search index on tickets; agencies and hand-offs; call-backs and their attempts

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-28 05:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The same expression as callcenter.services.search.TICKET_TSV (the query must match it).
TICKET_TSV = (
    "to_tsvector('simple'::regconfig, (COALESCE(summary, ''::text) || ' '::text)"
    " || COALESCE(address, ''::character varying)::text)"
)


# Malang's agencies. National short numbers where one exists (113 fire, 119 ambulance, 115
# search and rescue, 123 PLN); None where the local number is still to be entered.
POLSEK = (
    ("KPJ", "Kepanjen"),
    ("PKS", "Pakisaji"),
    ("SBP", "Sumberpucung"),
    ("KRM", "Kromengan"),
    ("NGJ", "Ngajum"),
    ("WGR", "Wagir"),
    ("DAU", "Dau"),
    ("KRP", "Karangploso"),
    ("SGS", "Singosari"),
    ("LWG", "Lawang"),
    ("PAK", "Pakis"),
    ("JBG", "Jabung"),
    ("TMP", "Tumpang"),
    ("PCK", "Poncokusumo"),
    ("WJK", "Wajak"),
    ("TJN", "Tajinan"),
    ("BLW", "Bululawang"),
    ("GDL", "Gondanglegi"),
    ("PGL", "Pagelaran"),
    ("TRN", "Turen"),
    ("DMP", "Dampit"),
    ("APG", "Ampelgading"),
    ("TYD", "Tirtoyudo"),
    ("SMW", "Sumbermanjing Wetan"),
    ("GDG", "Gedangan"),
    ("BTR", "Bantur"),
    ("DNM", "Donomulyo"),
    ("KLP", "Kalipare"),
    ("PGK", "Pagak"),
    ("KSB", "Kasembon"),
    ("NGT", "Ngantang"),
    ("PJN", "Pujon"),
)
AGENCIES = [
    ("damkar", "fire", "Damkar Kabupaten Malang", "Malang Regency Fire Service", "113"),
    (
        "psc119",
        "medical",
        "PSC 119 Kabupaten Malang (ambulans)",
        "PSC 119 Malang Regency (ambulance)",
        "119",
    ),
    (
        "bpbd",
        "disaster",
        "BPBD Kabupaten Malang",
        "Malang Regency Disaster Management Agency",
        None,
    ),
    (
        "basarnas",
        "rescue",
        "Basarnas (Kantor SAR Surabaya)",
        "Basarnas (Surabaya SAR Office)",
        "115",
    ),
    ("pln", "utility", "PLN UP3 Malang", "PLN Malang (electricity)", "123"),
    (
        "pdam",
        "utility",
        "Perumda Air Minum Tirta Kanjuruhan (PDAM)",
        "Tirta Kanjuruhan water utility (PDAM)",
        None,
    ),
    (
        "dishub",
        "transport",
        "Dinas Perhubungan Kabupaten Malang",
        "Malang Regency Transport Office",
        None,
    ),
    *(
        (f"spkt-{code.lower()}", "police", f"SPKT Polsek {name}", f"Polsek {name} SPKT desk", None)
        for code, name in POLSEK
    ),
    ("polresta-malang-kota", "police", "Polresta Malang Kota", "Malang City Police", None),
    ("polres-batu", "police", "Polres Batu", "Batu Police", None),
    ("polres-blitar", "police", "Polres Blitar", "Blitar Regency Police", None),
    ("polres-lumajang", "police", "Polres Lumajang", "Lumajang Police", None),
    ("polres-pasuruan", "police", "Polres Pasuruan", "Pasuruan Regency Police", None),
]


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_tickets_search ON tickets USING gin ({TICKET_TSV})")
        op.execute(
            "CREATE INDEX ix_ticket_notes_search ON ticket_notes"
            " USING gin (to_tsvector('simple'::regconfig, text))"
        )
    op.create_table(
        "agencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name_id", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("no_answers", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("close_reason", sa.String(length=16), nullable=True),
        sa.Column("result_ticket_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["closed_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["result_ticket_id"], ["tickets.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id"),
    )
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_callbacks_open_due",
            ["due_at"],
            unique=False,
            postgresql_where=sa.text("status = 'open'"),
            sqlite_where=sa.text("status = 'open'"),
        )
        batch_op.create_index("ix_callbacks_phone", ["phone"], unique=False)

    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=120), nullable=True),
        sa.Column("reference", sa.String(length=80), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
        ),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_handoffs_pending_due",
            ["due_at"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.create_index("ix_handoffs_ticket", ["ticket_id"], unique=False)
        batch_op.create_index(
            "uq_handoffs_pending_ticket_agency",
            ["ticket_id", "agency_id"],
            unique=True,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )

    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["callback_id"], ["callbacks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("callback_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_callback_attempts_callback", ["callback_id", "id"], unique=False)

    agencies = sa.table(
        "agencies",
        sa.column("code", sa.String),
        sa.column("kind", sa.String),
        sa.column("name_id", sa.String),
        sa.column("name_en", sa.String),
        sa.column("phone", sa.String),
        sa.column("sort_order", sa.Integer),
        sa.column("active", sa.Boolean),
    )
    op.bulk_insert(
        agencies,
        [
            {
                "code": code,
                "kind": kind,
                "name_id": name_id,
                "name_en": name_en,
                "phone": phone,
                "sort_order": i,
                "active": True,
            }
            for i, (code, kind, name_id, name_en, phone) in enumerate(AGENCIES)
        ],
    )


def downgrade():
    with op.batch_alter_table("callback_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_callback_attempts_callback")

    op.drop_table("callback_attempts")
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_handoffs_pending_ticket_agency",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_index("ix_handoffs_ticket")
        batch_op.drop_index(
            "ix_handoffs_pending_due",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )

    op.drop_table("handoffs")
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.drop_index("ix_callbacks_phone")
        batch_op.drop_index(
            "ix_callbacks_open_due",
            postgresql_where=sa.text("status = 'open'"),
            sqlite_where=sa.text("status = 'open'"),
        )

    op.drop_table("callbacks")
    op.drop_table("agencies")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_tickets_search")
        op.execute("DROP INDEX ix_ticket_notes_search")
