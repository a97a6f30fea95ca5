"""The built-in generator: questions and specifications from the description's words and the catalogues (no AWS)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiln.domain.generation import (
    FEEDBACK_MAX,
    ProjectBrief,
    Question,
    QuestionSet,
    SpecContent,
    SpecRequest,
)
from kiln.domain.generators.builtin import MODULES, TOPICS, BuiltinGenerator
from kiln.domain.spec_documents import parse_data_model, render_documents

EXAMPLE = ProjectBrief(
    name="Team Tracker",
    description="A project management tool with team collaboration features, task boards, and time tracking",
)
RECIPES = ProjectBrief(name="Cookbook", description="A recipe library for home cooks.")
generator = BuiltinGenerator()


def _questions(brief: ProjectBrief = EXAMPLE) -> dict[str, Question]:
    return {question.id: question for question in generator.clarify(brief)}


def _spec(brief: ProjectBrief = EXAMPLE, answers: dict | None = None, feedback: tuple[str, ...] = ()) -> SpecContent:
    return generator.write_spec(SpecRequest(brief, tuple(generator.clarify(brief)), answers or {}, feedback))


def _entity(content: SpecContent, name: str):
    return next(entity for entity in content.entities if entity.name == name)


def _fields(content: SpecContent, name: str) -> dict:
    return {f.name: f for f in _entity(content, name).fields}


def _routes(content: SpecContent) -> set[tuple[str, str]]:
    return {(route.method, route.path) for route in content.routes}


# --- the catalogues -----------------------------------------------------------------------------


def test_catalogues_are_consistent():
    keys = [module.key for module in MODULES]
    assert len(keys) == len(set(keys))
    for module in MODULES:
        assert all(key in keys for key in module.implies + module.excludes), module.key
    for topic in TOPICS:
        for option in topic.options:
            assert all(key in keys for key in option.modules), (topic.id, option.label)
        assert all(key in keys for key in topic.asked_with), topic.id
        assert all(0 <= index < len(topic.options) for index in topic.default), topic.id
    assert len(TOPICS) <= 20


def test_generator_shape():
    assert generator.name == "builtin"
    assert callable(generator.clarify) and callable(generator.write_spec)


# --- clarify --------------------------------------------------------------------------------------


def test_example_questions_are_sensible():
    questions = _questions()
    QuestionSet(questions=list(questions.values()))
    assert 4 <= len(questions) <= 14
    # The model comes first: the things the description names, to confirm or change.
    assert list(questions)[:2] == ["data_model", "data_model_more"]
    assert questions["data_model"].options == ["All of them", "Project", "Team", "Task", "Board", "TimeEntry"]
    assert not questions["data_model"].required and questions["data_model_more"].type.value == "text"
    for expected in (
        "authentication",
        "tenancy",
        "roles",
        "realtime",
        "board_workflow",
        "time_billable",
        "time_capture",
        "data_retention",
        "anything_else",
    ):
        assert expected in questions
    assert questions["authentication"].type.value == "single_choice"
    assert "Email and password" in questions["authentication"].options
    assert questions["time_billable"].type.value == "boolean"
    assert questions["integrations"].type.value == "multi_choice"
    assert "Slack" in questions["integrations"].options
    assert questions["anything_else"].type.value == "text" and not questions["anything_else"].required
    # Nothing in the description is about payments, files or phones.
    assert not {"payments", "attachments", "devices"} & set(questions)


def test_questions_follow_the_description():
    questions = _questions(
        ProjectBrief(
            "Shop",
            "An online shop selling handmade mugs, usable on phones, with product photos. Reports for the owner.",
        )
    )
    assert {"payments", "attachments", "devices", "reporting"} <= set(questions)
    assert not {"time_billable", "time_capture", "board_workflow"} & set(questions)
    # "a mobile app" already chooses native apps: no question about devices.
    assert "devices" not in _questions(ProjectBrief("Shop", "An online shop with a mobile app."))


@pytest.mark.parametrize(
    "description, settled",
    [
        ("A task board where users sign in with Google.", "authentication"),
        ("An internal tool for our team to plan sprints on a kanban board; staff log in with SSO.", "authentication"),
        ("A kanban board for our team.", "tenancy"),
        ("A chat app for many organizations (multi-tenant SaaS) with real-time messages.", "realtime"),
        ("A time tracker that posts to Slack.", "integrations"),
    ],
)
def test_a_topic_the_description_settles_is_not_asked(description, settled):
    assert settled not in _questions(ProjectBrief("App", description))


def test_negated_topics_are_not_asked():
    questions = _questions(ProjectBrief("Board", "A kanban board for tasks, without time tracking."))
    assert "board_workflow" in questions
    assert "time_billable" not in questions and "time_capture" not in questions


def test_clarify_is_deterministic_and_valid_for_any_description():
    assert generator.clarify(EXAMPLE) == generator.clarify(EXAMPLE)


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=400))
def test_clarify_always_returns_a_valid_question_set(description):
    QuestionSet(questions=generator.clarify(ProjectBrief("Anything", description)))


# --- write_spec: the example ----------------------------------------------------------------------


def test_example_spec_has_the_expected_data_model():
    content = _spec()
    names = [entity.name for entity in content.entities]
    for expected in ("User", "Team", "Membership", "Project", "Board", "Column", "Task", "Comment", "TimeEntry"):
        assert expected in names
    assert parse_data_model(render_documents(content)["DATA.md"]) == content.entities

    task = _fields(content, "Task")
    for name in (
        "title",
        "description",
        "status",
        "priority",
        "due_date",
        "assignee_id",
        "project_id",
        "board_id",
        "column_id",
        "position",
        "created_at",
        "updated_at",
    ):
        assert name in task
    assert task["status"].type == "enum" and "done" in task["status"].values
    assert task["priority"].values == ["low", "medium", "high", "urgent"]
    time_entry = _fields(content, "TimeEntry")
    for name in ("user_id", "task_id", "started_at", "ended_at", "duration_minutes", "note"):
        assert name in time_entry

    relations = {(r.kind, r.target, r.via) for r in _entity(content, "Task").relations}
    assert ("belongs_to", "Project", "project_id") in relations
    assert ("belongs_to", "User", "assignee_id") in relations
    assert ("has_many", "Task", None) in {(r.kind, r.target, r.via) for r in _entity(content, "Project").relations}
    assert ("has_many", "Comment", None) in {(r.kind, r.target, r.via) for r in _entity(content, "Task").relations}


def test_example_spec_has_rest_and_feature_routes():
    routes = _routes(_spec())
    for route in (
        ("GET", "/projects/{projectId}/tasks"),
        ("POST", "/projects/{projectId}/tasks"),
        ("GET", "/tasks/{taskId}"),
        ("PATCH", "/tasks/{taskId}"),
        ("DELETE", "/tasks/{taskId}"),
        ("PATCH", "/tasks/{taskId}/move"),
        ("POST", "/time-entries/{timeEntryId}/stop"),
        ("GET", "/tasks/{taskId}/comments"),
        ("POST", "/auth/sign-in"),
        ("GET", "/users/me"),
    ):
        assert route in routes


def test_example_spec_features_users_and_decisions():
    content = _spec()
    features = {feature.name: feature for feature in content.features}
    for name in ("Team collaboration", "Projects", "Task boards", "Tasks", "Comments", "Time tracking"):
        assert name in features
    assert all(2 <= len(feature.acceptance) <= 6 for feature in content.features)
    assert all(criterion.startswith("Given ") for feature in content.features for criterion in feature.acceptance)
    assert [role.name for role in content.users] == ["Administrator", "Member"]
    # Unanswered questions become stated assumptions.
    assert any(line.startswith("Assumption: Sign-in: Email and password") for line in content.decisions)
    assert not content.feedback


def test_example_documents_read_as_a_first_draft():
    documents = render_documents(_spec())
    assert "## Entity: TimeEntry" in documents["DATA.md"]
    assert "- belongs_to Task via task_id" in documents["DATA.md"]
    assert "**AC-1.1**" in documents["ACCEPTANCE.md"]
    assert "## Task\n" in documents["ROUTES.md"] and "## Other\n" in documents["ROUTES.md"]
    assert documents["SPEC.md"].startswith("# Team Tracker\n")


# --- write_spec: answers ------------------------------------------------------------------------


def test_answers_shape_the_specification():
    questions = _questions()
    answers = {
        "authentication": questions["authentication"].options[2],  # SSO
        "tenancy": questions["tenancy"].options[1],  # many organizations
        "roles": [
            "Administrator: manages members and settings",
            "Member: does the day-to-day work",
            "Viewer: read-only access",
        ],
        "realtime": True,
        "board_workflow": "Custom columns with work-in-progress (WIP) limits",
        "time_billable": True,
        "time_capture": "Start/stop timers",
        "integrations": ["Slack", "GitHub", "Outgoing webhooks"],
        "data_retention": "Keep it for a legal retention period, then delete it",
        "anything_else": "Managers must approve | timesheets every Friday.",
    }
    content = _spec(answers=answers)
    names = {entity.name for entity in content.entities}
    assert {"IdentityProvider", "Organization", "Integration", "Webhook"} <= names
    assert _fields(content, "TimeEntry")["billable"].type == "boolean"
    assert "hourly_rate" in _fields(content, "TimeEntry") and "hourly_rate" in _fields(content, "Project")
    assert "wip_limit" in _fields(content, "Column")
    assert _fields(content, "Membership")["role"].values == ["admin", "member", "viewer"]
    assert _fields(content, "Integration")["provider"].values == ["slack", "github"]
    assert [role.name for role in content.users] == ["Administrator", "Member", "Viewer"]
    assert ("GET", "/live-updates") in _routes(content)
    assert ("GET", "/auth/sso/start") in _routes(content)
    assert ("POST", "/auth/sign-in") not in _routes(content)
    assert any("2 seconds" in line for line in content.non_functional)
    assert any("legal retention period" in line for line in content.non_functional)
    decisions = "\n".join(content.decisions)
    assert "Sign-in: Single sign-on" in decisions
    assert "Data retention: Keep it for a legal retention period" in decisions
    assert '"Managers must approve | timesheets every Friday."' in decisions
    assert "Assumption: Notifications" in decisions  # asked, not answered
    assert {"Single sign-on", "Organizations", "Integrations", "Webhooks", "Live updates"} <= {
        feature.name for feature in content.features
    }


def test_a_different_answer_gives_a_different_specification():
    live = _spec(answers={"realtime": True, "time_billable": False})
    still = _spec(answers={"realtime": False, "time_billable": False})
    assert ("GET", "/live-updates") in _routes(live) and ("GET", "/live-updates") not in _routes(still)
    assert "Live updates" not in {feature.name for feature in still.features}
    assert "billable" not in _fields(still, "TimeEntry")


def test_answers_in_own_words_and_unknown_questions_become_decisions():
    brief = EXAMPLE
    questions = (
        *generator.clarify(brief),
        Question(id="budget", question="What is the budget?", type="text", required=False),
    )
    content = generator.write_spec(
        SpecRequest(
            brief,
            questions,
            {"authentication": "We use Okta for everything", "budget": "About 20k", "stray": ["a", "b"]},
        )
    )
    decisions = "\n".join(content.decisions)
    assert 'Sign-in: "We use Okta for everything".' in decisions
    assert "IdentityProvider" in {entity.name for entity in content.entities}  # Okta means SSO
    assert 'What is the budget? Answer: "About 20k".' in decisions
    assert 'stray: "a, b".' in decisions


def test_description_settled_topics_are_applied_and_said_so():
    brief = ProjectBrief("Board", "A kanban board for our team where people sign in with Google.")
    content = _spec(brief)
    assert "auth_provider" in _fields(content, "User")
    assert any(
        line.startswith("Sign-in: Social login") and "as the description says" in line for line in content.decisions
    )


def test_unknown_domains_get_the_things_they_name():
    content = _spec(ProjectBrief("Plant Pal", "An app to keep track of my houseplants and when to water them."))
    assert [entity.name for entity in content.entities] == ["User", "Houseplant"]
    assert ("GET", "/houseplants") in _routes(content)
    assert "Houseplants" in {feature.name for feature in content.features}
    # With nothing named at all, the generic entity stands in, named after the project.
    assert [entity.name for entity in _spec(ProjectBrief("?", "")).entities] == ["User", "Item"]
    assert [entity.name for entity in _spec(ProjectBrief("Cellar", "Keeps everything.")).entities] == ["User", "Cellar"]


# --- write_spec: feedback -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "feedback, entity, feature, route",
    [
        ("Please add a CSV export of the recipes.", "Export", "Data export", ("POST", "/exports")),
        ("Can we get a dark mode?", "UserPreference", "Appearance and preferences", ("PUT", "/users/me/preferences")),
        ("Recipes need labels so I can group them.", "Tag", "Tags", ("PUT", "/recipes/{recipeId}/tags")),
        (
            "Send notifications when someone shares a recipe with me.",
            "Notification",
            "Notifications",
            ("POST", "/notifications/read-all"),
        ),
        ("We need an audit log for compliance.", "AuditLog", "Audit log", ("GET", "/audit-log")),
        ("It must work on my phone in the kitchen.", None, "Works on phones", None),
        ("Add two-factor authentication please.", None, "Two-factor authentication", ("POST", "/auth/mfa/verify")),
    ],
)
def test_each_kind_of_feedback_visibly_changes_the_documents(feedback, entity, feature, route):
    before = render_documents(_spec(RECIPES))
    content = _spec(RECIPES, feedback=(feedback,))
    after = render_documents(content)
    if entity:
        assert entity in {e.name for e in content.entities}
        assert f"## Entity: {entity}" in after["DATA.md"]
    if route:
        assert route in _routes(content)
    assert feature in {f.name for f in content.features}
    assert f"> {feedback}" in after["SPEC.md"]
    assert feedback in after["ACCEPTANCE.md"]  # the request's own criterion
    assert after["ACCEPTANCE.md"] != before["ACCEPTANCE.md"]
    assert content.feedback[0].feedback == feedback and content.feedback[0].changes
    assert any(feature in change for change in content.feedback[0].changes)


def test_mobile_feedback_adds_a_non_functional_requirement():
    content = _spec(RECIPES, feedback=("It must work on mobile.",))
    assert any("360 pixels" in line for line in content.non_functional)


def test_removal_feedback_drops_entities_features_and_routes():
    content = _spec(feedback=("Remove comments, we discuss in Slack.", "We don't need time tracking after all"))
    names = {entity.name for entity in content.entities}
    assert "Comment" not in names and "TimeEntry" not in names
    assert not {"Comments", "Time tracking"} & {feature.name for feature in content.features}
    assert not any(path.startswith("/time-entries") for _, path in _routes(content))
    assert "Removed entity Comment." in content.feedback[0].changes
    assert "Removed entity TimeEntry." in content.feedback[1].changes
    assert any("Out of scope after review feedback 1" in line for line in content.decisions)
    assert parse_data_model(render_documents(content)["DATA.md"]) == content.entities


def test_later_feedback_can_bring_back_what_earlier_feedback_removed():
    content = _spec(feedback=("Remove comments.", "Actually we want comments on tasks again."))
    assert "Comment" in {entity.name for entity in content.entities}
    assert "Added entity Comment" in " ".join(content.feedback[1].changes)


def test_user_accounts_cannot_be_removed():
    content = _spec(feedback=("Remove users and accounts.",))
    assert content.entities[0].name == "User"
    assert any("Kept the User entity" in change for change in content.feedback[0].changes)


def test_unmatched_feedback_still_leaves_a_trace():
    feedback = "The onboarding should include a guided product tour for new members. Skippable, too!"
    content = _spec(feedback=(feedback,))
    documents = render_documents(content)
    feature = content.features[-1]
    assert feature.name == "Onboarding should include a guided product tour"
    assert "Product" not in {entity.name for entity in content.entities}  # "product tour" is not a shop
    assert "## " + str(len(content.features)) + ". " + feature.name in documents["ACCEPTANCE.md"]
    assert (
        'this holds: "The onboarding should include a guided product tour for new members."'
        in (documents["ACCEPTANCE.md"])
    )
    assert 'this holds: "Skippable, too!"' in documents["ACCEPTANCE.md"]
    assert f'Added feature "{feature.name}" with 2 acceptance criteria.' in content.feedback[0].changes
    assert "> " + feedback in documents["SPEC.md"]


def test_feedback_without_words_and_blank_feedback():
    content = _spec(feedback=("   ", "!!!", "{item} {oops}"))
    assert [response.feedback for response in content.feedback] == ["!!!", "{item} {oops}"]
    names = [feature.name for feature in content.features]
    assert "Review request 2" in names and "Item oops" in names
    assert "{item} {oops}" in render_documents(content)["ACCEPTANCE.md"]


# --- robustness and determinism -----------------------------------------------------------------


def test_same_input_same_output():
    answers = {"integrations": ["Slack", "Zapier"], "anything_else": "Keep it simple."}
    feedback = ("Add tags", "remove the boards", "Something else entirely")
    first = _spec(answers=answers, feedback=feedback)
    second = _spec(answers=answers, feedback=feedback)
    assert first == second
    assert render_documents(first) == render_documents(second)


def test_output_does_not_depend_on_hash_seeds():
    script = (
        "import hashlib, sys; sys.path[:0] = ['functions', '.'];"
        "from tests.unit.kiln.domain.generators.test_builtin import _spec;"
        "from kiln.domain.spec_documents import render_documents;"
        "documents = render_documents(_spec(feedback=('Add tags and a dark mode', 'no comments')));"
        "print(hashlib.sha256(repr(sorted(documents.items())).encode()).hexdigest())"
    )
    root = os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1


def test_worst_case_sizes_still_validate():
    keywords = " ".join(k for module in MODULES for k in module.keywords + module.description_only)
    settles = " ".join(s for topic in TOPICS for option in topic.options for s in option.settles)
    description = ((keywords + " " + settles + " ") * 20)[:10_000]
    brief = ProjectBrief("N" * 200, description)
    questions = tuple(generator.clarify(brief))
    answers = {
        q.id: (
            list(q.options)
            if q.type.value == "multi_choice"
            else q.options[-1]
            if q.options
            else True
            if q.type.value == "boolean"
            else "x " * 1_000
        )
        for q in questions
    }
    feedback = tuple((f"{n} | remove tags \\ add audit {{x}}\n" * 200)[:FEEDBACK_MAX] for n in range(3))
    content = generator.write_spec(SpecRequest(brief, questions, answers, feedback))
    SpecContent.model_validate(content.model_dump())
    assert len(content.feedback) == 3
    assert parse_data_model(render_documents(content)["DATA.md"]) == content.entities


def test_many_feedback_items_fit_the_limits():
    feedback = tuple(f"Widget {n} should sparkle." for n in range(60))
    content = _spec(feedback=feedback)
    assert len(content.feedback) == 50 and content.feedback[-1].feedback == feedback[-1]
    assert len(content.features) == 40
    assert "Widget 59 should sparkle." in render_documents(content)["ACCEPTANCE.md"]


@settings(max_examples=25, deadline=None)
@given(st.text(max_size=300), st.lists(st.text(max_size=200), max_size=3))
def test_any_description_and_feedback_give_a_valid_specification(description, feedback):
    brief = ProjectBrief("Anything", description)
    content = generator.write_spec(SpecRequest(brief, tuple(generator.clarify(brief)), {}, tuple(feedback)))
    assert parse_data_model(render_documents(content)["DATA.md"]) == content.entities
