"""The grading policy of the reports (通报考核等级), one row, kept in the database so that every
replica grades alike. No row means the defaults (report.grades.DEFAULT)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Double
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base


class ReportGrade(Base):
    """A unit is graded A when its on-time completion rate and its satisfaction rate both reach
    A's thresholds, else B, else C, else D; units below ``satisfaction_floor`` are named."""

    __tablename__ = "report_grade"

    id: Mapped[int] = mapped_column(primary_key=True)
    a_on_time: Mapped[float] = mapped_column(Double)
    a_satisfaction: Mapped[float] = mapped_column(Double)
    b_on_time: Mapped[float] = mapped_column(Double)
    b_satisfaction: Mapped[float] = mapped_column(Double)
    c_on_time: Mapped[float] = mapped_column(Double)
    c_satisfaction: Mapped[float] = mapped_column(Double)
    satisfaction_floor: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[datetime]
