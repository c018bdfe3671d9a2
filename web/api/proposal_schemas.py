"""Read models of the proposal stage (申报书) over the API. Scores appear only in the
sponsor's and administrators' answers (every reviewer's) and a reviewer's (their own)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from web.api.schemas import IsoTime


class ProposalFile(BaseModel):
    team_id: int
    team: str
    filename: str
    size: int
    sha256: str
    uploaded_at: IsoTime


class ReleasedComment(BaseModel):
    criterion: str
    comment: str


class ProposalState(BaseModel):
    """A team's own view: its proposal, the due date, and the result once final."""

    due: IsoTime
    open: bool
    final: bool
    shortlisted: bool | None = Field(description="null until the shortlist is final")
    proposal: ProposalFile | None
    comments: list[ReleasedComment]


class ScoreView(BaseModel):
    id: int
    reviewer_id: int
    criterion: str
    score: int
    comment: str
    released: bool


class ScoreList(BaseModel):
    team_id: int
    scores: list[ScoreView]


class ScoresUpdate(BaseModel):
    scores: dict[str, int] = Field(description="every criterion's score, 0 to 100")
    comments: dict[str, str] = Field(default_factory=dict)


class ProposalTotal(BaseModel):
    team_id: int
    team: str
    total: float | None = Field(description="null: no reviewer scored it yet")
    reviewers: int
    rank: int | None
    tied_at_cutoff: bool
    shortlisted: bool | None
    proposal: ProposalFile


class ReviewItem(BaseModel):
    proposal: ProposalFile
    my_scores: dict[str, int]


class ProposalList(BaseModel):
    """The sponsor's (and administrators') totals, or a reviewer's proposals to score."""

    shortlist: int
    final: bool
    totals: list[ProposalTotal] | None = None
    to_review: list[ReviewItem] | None = None


class ReviewerView(BaseModel):
    user_id: int
    name: str
    email: str
    assigned_at: IsoTime


class ReviewerList(BaseModel):
    reviewers: list[ReviewerView]


class ReviewerCreate(BaseModel):
    email: str = Field(max_length=254)


class ShortlistView(BaseModel):
    shortlist: int
    final: bool
    team_ids: list[int]


class ShortlistUpdate(BaseModel):
    team_ids: list[int] = Field(max_length=1000)
    final: bool = Field(default=False, description="make the shortlist final (after the due date)")


class CommentsRelease(BaseModel):
    score_ids: list[int] = Field(max_length=10000)
    released: bool = True


class Released(BaseModel):
    changed: int
