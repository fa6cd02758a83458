"""The state machine as a pure table: no sequence of legal actions reaches an undefined state,
and every illegal one is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.ticket.schemas import Status
from hotline.workflow.states import (
    MAY_KEEP,
    STATE_NAMES,
    TABLE,
    Action,
    IllegalTransition,
    actions_in,
    check,
)

actions = st.sampled_from(list(Action))
targets = st.sampled_from([None, *Status])


class TestTable:
    def test_every_action_has_sources_and_only_known_targets(self) -> None:
        for action, (sources, goals) in TABLE.items():
            assert sources, action
            assert goals <= set(Status)

    def test_closed_is_terminal(self) -> None:
        assert actions_in(Status.closed) == []

    def test_every_open_state_has_a_way_forward(self) -> None:
        for state in Status:
            if state is not Status.closed:
                moves = [a for a in actions_in(state) if TABLE[a][1] - {state}]
                assert moves, state


class TestWalk:
    @given(st.lists(st.tuples(actions, targets), max_size=40))
    def test_random_walks_stay_in_defined_states(
        self, steps: list[tuple[Action, Status | None]]
    ) -> None:
        state = Status.triage
        for action, target in steps:
            try:
                after = check(action, state, target)
            except IllegalTransition as refused:
                assert refused.state is state
                continue
            except ValueError:
                assert target is None and len(TABLE[action][1]) > 1
                continue
            assert after in set(Status)
            assert state in TABLE[action][0]
            goals = TABLE[action][1]
            kept = after is state and (not goals or action in MAY_KEEP)
            assert after in goals or kept
            state = after

    @given(actions, st.sampled_from(list(Status)))
    def test_an_action_outside_its_states_is_refused_naming_the_state(
        self, action: Action, state: Status
    ) -> None:
        if state in TABLE[action][0]:
            return
        with pytest.raises(IllegalTransition) as refused:
            check(action, state)
        zh, en = STATE_NAMES[state]
        assert f"工单当前为“{zh}”" in refused.value.zh
        assert f"A ticket that is {en} cannot" in refused.value.en
        assert str(refused.value) == refused.value.en


class TestStory:
    def test_the_whole_story_is_legal(self) -> None:
        state = Status.triage
        for action, target in [
            (Action.dispatch, Status.dispatched),
            (Action.sign, None),
            (Action.whistle, None),
            (Action.report_in, None),
            (Action.reply, None),
            (Action.callback, Status.rework),
            (Action.reply, None),
            (Action.callback, Status.closed),
        ]:
            state = check(action, state, target)
        assert state is Status.closed

    def test_a_callback_cannot_reopen_a_closed_ticket(self) -> None:
        with pytest.raises(IllegalTransition):
            check(Action.callback, Status.closed, Status.rework)
