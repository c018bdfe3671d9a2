"""The job end to end inside one process: real database, real Docker, real scoring."""

import io
import zipfile

import numpy as np
import pytest
from sklearn.metrics import f1_score

from challenges.split import public_mask
from evaluator.context import open_context
from evaluator.intake import submit
from evaluator.jobs import run_evaluation
from evaluator.models import Failure, State, Submission
from evaluator.worker import worker_name
from jiebang import audit

pytestmark = pytest.mark.docker

READ = """
import csv, os, sys
rows = list(csv.DictReader(open(os.path.join(os.environ["JIEBANG_INPUT"], "test.csv"))))
out = open(os.path.join(os.environ["JIEBANG_OUTPUT"], "predictions.csv"), "w")
def write(pairs):
    out.write("id,prediction\\n" + "".join(f"{i},{p}\\n" for i, p in pairs))
"""
PROGRAMS = {
    "perfect": READ + "write((r['id'], int(r['x']) % 2) for r in rows)\n",
    "zeros": READ + "write((r['id'], 0) for r in rows)\n",
    "half": READ + "write((r['id'], 1) for r in rows[::2])\n",
    "empty": READ + "write((r['id'], '') for r in rows)\n",
    "silent": "print('I write nothing')\n",
    "crash": "import sys\nprint('boom', file=sys.stderr)\nsys.exit(3)\n",
    "spin": "while True:\n    pass\n",
    "keyerror": READ + "rows = {r['id']: r for r in rows}\nrows['SECRET-' + rows['r000']['x']]\n",
    "own_error": "class Leak_r000_7(Exception):\n    pass\nraise Leak_r000_7('data')\n",
}


def _bundle(name: str) -> io.BytesIO:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("main.py", PROGRAMS[name])
    data.seek(0)
    return data


@pytest.fixture
def setup(world, session, settings, blobs):
    challenge = world.challenge(
        resources={"cpus": 1, "memory_mb": 256, "time_limit_s": 3},
        opens_at="2020-01-01T00:00:00+00:00",
        closes_at="2099-01-01T00:00:00+00:00",
    )
    user = world.user("runner@example.com")
    world.team(challenge, user)
    session.commit()
    ctx = open_context(settings)

    def evaluate(name: str) -> Submission:
        sub = submit(
            session,
            user=user,
            challenge=challenge,
            upload=_bundle(name),
            kind="bundle",
            blobs=blobs,
            settings=settings,
        )
        session.commit()
        run_evaluation(ctx, sub.id)
        session.expire_all()
        return session.get(Submission, sub.id)

    return challenge, evaluate, ctx


def _expected(challenge, predict):
    ids = np.array([f"r{i:03d}" for i in range(40)])
    truth = np.array([i % 2 for i in range(40)])
    public = public_mask(ids, challenge.split_secret, challenge.public_fraction)
    pred = np.array([predict(i) for i in range(40)])
    score = lambda m: f1_score(truth[m], pred[m], average="macro")  # noqa: E731
    return score(public), score(~public)


def test_scores_equal_scikit_learn_on_each_side(setup):
    challenge, evaluate, _ = setup
    perfect = evaluate("perfect")
    assert perfect.status == State.scored, perfect.message
    assert perfect.public_score == 1.0 and perfect.private_score == 1.0
    zeros = evaluate("zeros")
    public, private = _expected(challenge, lambda i: 0)
    assert zeros.public_score == pytest.approx(public, abs=1e-12)
    assert zeros.private_score == pytest.approx(private, abs=1e-12)
    assert zeros.runtime_s > 0 and zeros.image_id.startswith("sha256:")
    assert zeros.dataset_hash == challenge.dataset_hash


@pytest.mark.parametrize(
    ("program", "failure", "words"),
    [
        ("silent", Failure.bad_output, "predictions.csv"),
        ("half", Failure.bad_output, "missing"),
        ("empty", Failure.bad_output, "line 2"),
        ("crash", Failure.crash, "exited with code 3"),
        ("spin", Failure.timeout, "3 s time limit"),
    ],
)
def test_failures_say_what_went_wrong(setup, program, failure, words):
    _, evaluate, _ = setup
    sub = evaluate(program)
    assert sub.status == State.failed
    assert sub.failure == failure
    assert words in sub.message
    assert sub.public_score is None and sub.private_score is None


def test_an_evaluation_runs_once(setup, session):
    challenge, evaluate, ctx = setup
    sub = evaluate("perfect")
    assert run_evaluation(ctx, sub.id) == "skipped"
    events = [e.kind for e in audit.events_for(session, challenge.id)]
    assert events.count("submission.scored") == 1


def test_no_container_is_left_behind(setup):
    _, evaluate, ctx = setup
    sub = evaluate("spin")
    mine = [f"jiebang.submission={sub.id}", f"jiebang.worker={worker_name()}"]
    assert ctx.docker.containers.list(all=True, filters={"label": mine}) == []


@pytest.mark.parametrize("show_logs", [True, False])
def test_a_crash_names_its_error_as_far_as_the_logs_allow(setup, session, show_logs):
    """With logs shown the traceback's last line; with logs hidden only the kind of a
    built-in exception, and nothing a program could spell input data into."""
    challenge, evaluate, _ = setup
    challenge.show_logs = show_logs
    session.commit()
    sub = evaluate("keyerror")
    assert sub.status == State.failed and sub.failure == Failure.crash
    if show_logs:
        assert sub.message_code == "run.error"
        assert "KeyError: 'SECRET-0'" in sub.message
    else:
        assert sub.message_code == "run.error_hidden"
        assert "KeyError" in sub.message and "SECRET" not in sub.message
        assert "jiebang check" in sub.message
    own = evaluate("own_error")
    if show_logs:
        assert "Leak_r000_7: data" in own.message
    else:
        assert own.message_code == "run.crash_hidden"
        assert "Leak" not in own.message and "r000" not in own.message
