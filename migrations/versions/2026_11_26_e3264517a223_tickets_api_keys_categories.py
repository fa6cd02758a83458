"""Tickets, their events, API keys, idempotency records and the seeded category catalogue.

Revision ID: e3264517a223
Revises:
Create Date: 2026-11-26 06:11:28.768740
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "e3264517a223"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# A 12345 taxonomy (after the national 12345 classification used by Beijing and Shandong):
# (code, name, English name, group, keywords).
CATEGORIES = [
    ("utility.water", "供水", "Water supply", "公用事业", ["停水", "水压", "水质"]),
    ("utility.power", "供电", "Power supply", "公用事业", ["停电", "电压", "线路"]),
    ("utility.gas", "供气", "Gas supply", "公用事业", ["燃气", "煤气", "漏气"]),
    ("utility.heating", "供暖", "Heating", "公用事业", ["供暖", "暖气", "室温"]),
    ("utility.telecom", "通信", "Telecom and broadband", "公用事业", ["网络", "信号"]),
    ("urban.road", "道路设施", "Roads and bridges", "城乡建设", ["路面", "坑洼", "井盖"]),
    ("urban.lighting", "路灯照明", "Street lighting", "城乡建设", ["路灯", "不亮"]),
    ("urban.drainage", "排水防涝", "Drainage and sewers", "城乡建设", ["下水道", "积水", "堵塞"]),
    ("urban.construction", "违法建设", "Illegal construction", "城乡建设", ["违建", "私搭乱建"]),
    ("urban.greening", "园林绿化", "Parks and greenery", "城乡建设", ["树木", "绿地"]),
    (
        "environment.sanitation",
        "环境卫生",
        "Sanitation and rubbish",
        "生态环境",
        ["垃圾", "清运", "卫生"],
    ),
    ("environment.noise", "噪声扰民", "Noise", "生态环境", ["噪音", "施工", "夜间"]),
    (
        "environment.pollution",
        "环境污染",
        "Air and water pollution",
        "生态环境",
        ["污染", "异味", "排污"],
    ),
    (
        "housing.property",
        "物业管理",
        "Property management",
        "住房保障",
        ["物业", "电梯", "维修基金"],
    ),
    ("housing.certificate", "房产办证", "Property certificates", "住房保障", ["房本", "不动产"]),
    ("housing.demolition", "征收拆迁", "Expropriation", "住房保障", ["拆迁", "补偿"]),
    ("market.food", "食品安全", "Food safety", "市场监管", ["过期", "食品", "餐馆"]),
    ("market.price", "价格收费", "Prices and fees", "市场监管", ["乱收费", "价格"]),
    ("market.consumer", "消费维权", "Consumer rights", "市场监管", ["退款", "假货", "质量"]),
    ("labour.wages", "欠薪讨薪", "Unpaid wages", "劳动保障", ["拖欠工资", "农民工"]),
    ("labour.insurance", "社会保险", "Social insurance", "劳动保障", ["社保", "养老", "医保"]),
    ("traffic.transit", "公共交通", "Public transport", "交通运输", ["公交", "出租车", "客运"]),
    ("traffic.parking", "交通秩序", "Traffic and parking", "交通运输", ["停车", "占道"]),
    ("education.school", "教育", "Schools and education", "教育卫生", ["入学", "学校", "培训"]),
    ("health.medical", "医疗卫生", "Health care", "教育卫生", ["医院", "看病", "药品"]),
    ("civil.assistance", "社会救助", "Social assistance", "民政", ["低保", "救助", "困难"]),
    ("civil.elderly", "养老服务", "Elderly care", "民政", ["养老院", "老人"]),
    (
        "rural.agriculture",
        "农业农村",
        "Agriculture and villages",
        "农业农村",
        ["种植", "农机", "补贴"],
    ),
    ("rural.land", "土地承包", "Land contracts", "农业农村", ["承包地", "宅基地"]),
    (
        "business.environment",
        "营商环境",
        "Business environment",
        "营商环境",
        ["审批", "企业", "营商"],
    ),
    ("business.permit", "行政审批", "Permits and licences", "营商环境", ["办证", "审批", "执照"]),
    ("safety.hazard", "安全隐患", "Safety hazards", "公共安全", ["隐患", "消防", "危险"]),
    ("public.policy", "政策咨询", "Policy questions", "综合", ["政策", "咨询"]),
    ("public.other", "其他", "Other", "综合", []),
]


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_key_prefix")),
    )
    op.create_table(
        "category",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("group_name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("keywords", JSON, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_category")),
    )
    op.create_table(
        "ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("category_code", sa.String(length=64), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("line", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("caller_name", sa.String(length=100), nullable=True),
        sa.Column("caller_phone", sa.String(length=32), nullable=True),
        sa.Column("caller_phone_hash", sa.String(length=64), nullable=True),
        sa.Column("caller_confidential", sa.Boolean(), nullable=False),
        sa.Column("location", JSON, nullable=False),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("route", JSON, nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=True),
        sa.Column("grid_code", sa.String(length=32), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_code"], ["category.code"], name=op.f("fk_ticket_category_code_category")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["api_key.id"], name=op.f("fk_ticket_created_by_api_key")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket")),
        sa.UniqueConstraint("external_id", name=op.f("uq_ticket_external_id")),
        sa.UniqueConstraint("number", name=op.f("uq_ticket_number")),
    )
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ticket_caller_phone_hash"), ["caller_phone_hash"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ticket_category_code"), ["category_code"], unique=False
        )
        batch_op.create_index("ix_ticket_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_grid_code"), ["grid_code"], unique=False)
        batch_op.create_index("ix_ticket_status_created_at", ["status", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_unit_code"), ["unit_code"], unique=False)

    op.create_table(
        "idempotency_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_key.id"], name=op.f("fk_idempotency_record_api_key_id_api_key")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_idempotency_record_ticket_id_ticket")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_record")),
        sa.UniqueConstraint("api_key_id", "key", name=op.f("uq_idempotency_record_api_key_id_key")),
    )
    op.create_table(
        "ticket_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_key_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=True),
        sa.Column("details", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_key_id"], ["api_key.id"], name=op.f("fk_ticket_event_actor_key_id_api_key")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_ticket_event_ticket_id_ticket")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_event")),
    )
    with op.batch_alter_table("ticket_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_event_ticket_id"), ["ticket_id"], unique=False)

    category = sa.table(
        "category",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("name_en", sa.String),
        sa.column("group_name", sa.String),
        sa.column("description", sa.Text),
        sa.column("keywords", JSON),
        sa.column("active", sa.Boolean),
    )
    op.bulk_insert(
        category,
        [
            {
                "code": code,
                "name": name,
                "name_en": name_en,
                "group_name": group,
                "description": f"{group} · {name}",
                "keywords": keywords,
                "active": True,
            }
            for code, name, name_en, group, keywords in CATEGORIES
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("ticket_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_event_ticket_id"))

    op.drop_table("ticket_event")
    op.drop_table("idempotency_record")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_unit_code"))
        batch_op.drop_index("ix_ticket_status_created_at")
        batch_op.drop_index(batch_op.f("ix_ticket_grid_code"))
        batch_op.drop_index("ix_ticket_created_at_id")
        batch_op.drop_index(batch_op.f("ix_ticket_category_code"))
        batch_op.drop_index(batch_op.f("ix_ticket_caller_phone_hash"))
        batch_op.drop_index(batch_op.f("ix_ticket_assignee_id"))

    op.drop_table("ticket")
    op.drop_table("category")
    op.drop_table("api_key")
