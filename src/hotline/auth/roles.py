"""The roles of DESIGN.md §2 and the groups the rules speak of."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    agent = "agent"
    dispatcher = "dispatcher"
    worker = "worker"
    member = "member"
    officer = "officer"
    arbiter = "arbiter"
    viewer = "viewer"
    admin = "admin"


# Each role as people call it, for refusals (errors.Forbidden's Chinese).
ROLE_NAMES = {
    Role.agent: "话务员",
    Role.dispatcher: "派单员",
    Role.worker: "网格员",
    Role.member: "专属网格员",
    Role.officer: "单位负责人",
    Role.arbiter: "确责小组",
    Role.viewer: "看板用户",
    Role.admin: "管理员",
}

# The hotline centre reads every ticket and every caller (DESIGN.md §8).
CENTRE = frozenset({Role.agent, Role.dispatcher, Role.arbiter, Role.admin})
# People in the field and the units above the grid: they see the tickets that concern their
# grid, department or unit (an officer also those of the units below theirs).
FIELD = frozenset({Role.worker, Role.member, Role.officer})
