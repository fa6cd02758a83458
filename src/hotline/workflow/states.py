"""The ticket state machine of DESIGN.md §5, as data and pure functions.

Each action lists the states it may be taken in and the state it leads to. ``None`` as a target
means the action keeps the state (notes, whistles, report-ins, extensions). Actions whose
target depends on their payload (a callback, a return decision) name every target they can
reach in ``OUTCOMES``; the service picks one and ``check`` refuses anything outside the table.

    triage ──dispatch──▶ dispatched ──sign──▶ signed ──reply──▶ replied ──callback──▶ closed
      │                   │   ▲                                   │
      │                   │   └──── return-decision ◀── return ───┘ (return_requested)
      │                   └─return─▶ return_requested ─▶ arbitration (3 transfers)
      └─answer / merge / close──▶ closed          replied ──callback (unit at fault)──▶ rework
                                                  rework ──sign──▶ signed, ──reply──▶ replied
    dispatched / signed / rework ──escalate (top rung)──▶ arbitration ──ruling──▶ dispatched
    dispatched / signed / rework ──terminate-decision (approved)──▶ closed
"""

from __future__ import annotations

from enum import StrEnum

from hotline.ticket.schemas import Status


class Action(StrEnum):
    dispatch = "dispatch"
    sign = "sign"
    note = "note"
    whistle = "whistle"
    report_in = "report-in"
    reply = "reply"
    return_ = "return"
    return_decision = "return-decision"
    extension = "extension"
    extension_decision = "extension-decision"
    answer = "answer"
    callback = "callback"
    merge = "merge"
    close = "close"
    ruling = "ruling"
    escalate = "escalate"
    supervise = "supervise"
    co_report = "co-report"
    staged = "staged-answer"
    staged_decision = "staged-answer-decision"
    terminate = "terminate"
    terminate_decision = "terminate-decision"


S = Status
OPEN = frozenset(s for s in Status if s is not S.closed)
WORKING = frozenset({S.dispatched, S.signed, S.rework})

# action → (states it may be taken in, the states it may lead to; empty = keeps the state)
TABLE: dict[Action, tuple[frozenset[Status], frozenset[Status]]] = {
    Action.dispatch: (
        frozenset({S.triage, S.dispatched, S.rework}),
        frozenset({S.dispatched, S.arbitration}),
    ),
    Action.sign: (frozenset({S.dispatched, S.rework}), frozenset({S.signed})),
    Action.note: (OPEN - {S.triage}, frozenset()),
    Action.whistle: (frozenset({S.signed, S.rework}), frozenset()),
    Action.report_in: (OPEN - {S.triage}, frozenset()),
    Action.reply: (frozenset({S.signed, S.rework}), frozenset({S.replied})),
    Action.return_: (frozenset({S.dispatched}), frozenset({S.return_requested})),
    Action.return_decision: (
        frozenset({S.return_requested}),
        frozenset({S.dispatched, S.triage, S.arbitration}),
    ),
    Action.extension: (frozenset({S.signed, S.rework}), frozenset()),
    Action.extension_decision: (frozenset({S.signed, S.rework, S.replied}), frozenset()),
    Action.answer: (frozenset({S.triage, S.dispatched}), frozenset({S.closed})),
    Action.callback: (
        frozenset({S.replied}),
        frozenset({S.closed, S.rework, S.replied, S.arbitration}),
    ),
    Action.merge: (frozenset({S.triage, S.dispatched}), frozenset({S.closed})),
    Action.close: (frozenset({S.triage}), frozenset({S.closed})),
    # The confirmation group's ruling names the owner, who can no longer send it back; only a
    # new ruling moves a designated ticket (escalation.rulings checks it is designated).
    Action.ruling: (
        frozenset({S.arbitration, S.dispatched, S.signed, S.rework}),
        frozenset({S.dispatched}),
    ),
    # Escalation keeps the state, except at the top rung, which hands it to the group.
    Action.escalate: (
        frozenset({S.dispatched, S.signed, S.rework, S.return_requested}),
        frozenset({S.arbitration}),
    ),
    Action.supervise: (OPEN, frozenset()),
    # A co-handler's report to the lead (协办报告).
    Action.co_report: (OPEN - {S.triage}, frozenset()),
    # A staged answer (阶段性答复) and termination (终止办理) wait for a dispatcher's review;
    # an approved termination closes the ticket.
    Action.staged: (frozenset({S.signed, S.rework}), frozenset()),
    Action.staged_decision: (frozenset({S.signed, S.rework}), frozenset()),
    Action.terminate: (frozenset({S.dispatched, S.signed, S.rework}), frozenset()),
    Action.terminate_decision: (
        frozenset({S.dispatched, S.signed, S.rework}),
        frozenset({S.closed}),
    ),
}

# Actions that may also keep the state they are taken in (below the ladder's top rung; a
# rejected termination).
MAY_KEEP = frozenset({Action.escalate, Action.terminate_decision})

# A ticket returned or re-dispatched this many times without an owner goes to arbitration.
MAX_TRANSFERS = 3
# A ticket reworked this many times is a difficult case (疑难件).
MAX_REWORKS = 3


# Each state and action in people's words, (Chinese, English), for the refusals below: "工单当前为
# “已签收”，不能申请延期" / "A ticket that is signed cannot be extended".
STATE_NAMES: dict[Status, tuple[str, str]] = {
    S.triage: ("待派单", "in triage"),
    S.dispatched: ("待签收", "dispatched"),
    S.return_requested: ("退单申请中", "awaiting a return decision"),
    S.signed: ("已签收", "signed"),
    S.arbitration: ("确责中", "with the confirmation group"),
    S.replied: ("已答复", "answered by its unit"),
    S.closed: ("已办结", "closed"),
    S.rework: ("重办", "in rework"),
}
ACTION_NAMES: dict[Action, tuple[str, str]] = {
    Action.dispatch: ("派遣", "be dispatched"),
    Action.sign: ("签收", "be signed for"),
    Action.note: ("添加备注", "take a note"),
    Action.whistle: ("吹哨", "have a whistle blown"),
    Action.report_in: ("报到", "take a report-in"),
    Action.reply: ("答复", "be replied"),
    Action.return_: ("申请退单", "be returned"),
    Action.return_decision: ("审核退单申请", "have a return decided"),
    Action.extension: ("申请延期", "be extended"),
    Action.extension_decision: ("审核延期申请", "have an extension decided"),
    Action.answer: ("直接答复", "be answered directly"),
    Action.callback: ("回访", "take a callback"),
    Action.merge: ("并单", "be merged"),
    Action.close: ("关闭", "be closed"),
    Action.ruling: ("确责认定", "be ruled on"),
    Action.escalate: ("逐级上报", "be escalated"),
    Action.supervise: ("督办", "be supervised"),
    Action.co_report: ("提交协办报告", "take a co-handler's report"),
    Action.staged: ("提交阶段性答复", "take a staged answer"),
    Action.staged_decision: ("审核阶段性答复", "have a staged answer decided"),
    Action.terminate: ("申请终止办理", "have termination requested"),
    Action.terminate_decision: ("审核终止办理", "have a termination decided"),
}


class IllegalTransition(Exception):
    """An action the table refuses; ``zh`` and ``en`` say so, str() is the English."""

    def __init__(self, action: Action, state: Status, target: Status | None = None) -> None:
        self.action, self.state, self.target = action, state, target
        act_zh, act_en = ACTION_NAMES[action]
        now_zh, now_en = STATE_NAMES[state]
        sources = sorted(TABLE[action][0], key=list(Status).index)
        if target is not None and state in sources:
            then_zh, then_en = STATE_NAMES[target]
            self.zh = f"工单当前为“{now_zh}”，{act_zh}后不能变为“{then_zh}”"
            self.en = f"A ticket that is {now_en} cannot {act_en} and end up {then_en}"
        else:
            names_zh = "、".join(f"“{STATE_NAMES[s][0]}”" for s in sources)
            names_en = [STATE_NAMES[s][1] for s in sources]
            listed_en = ", ".join(names_en[:-1]) + " or " if len(names_en) > 1 else ""
            self.zh = f"工单当前为“{now_zh}”，不能{act_zh}（仅{names_zh}的工单可以{act_zh}）"
            self.en = (
                f"A ticket that is {now_en} cannot {act_en}; only one that is "
                f"{listed_en}{names_en[-1]} can"
            )
        super().__init__(self.en)


def allowed(action: Action, state: Status) -> bool:
    return state in TABLE[action][0]


def check(action: Action, state: Status, target: Status | None = None) -> Status:
    """The state after ``action`` (``target`` for payload-dependent ones); raises otherwise."""
    sources, targets = TABLE[action]
    if state not in sources:
        raise IllegalTransition(action, state)
    if target is state and action in MAY_KEEP:
        return state
    if not targets:
        if target not in (None, state):
            raise IllegalTransition(action, state, target)
        return state
    if target is None:
        if len(targets) != 1:
            raise ValueError(f"{action.value} needs an explicit target")
        (only,) = targets
        return only
    if target not in targets:
        raise IllegalTransition(action, state, target)
    return target


def actions_in(state: Status) -> list[Action]:
    """Every action the table allows in ``state`` (for clients that grey out buttons)."""
    return [a for a in Action if state in TABLE[a][0]]
