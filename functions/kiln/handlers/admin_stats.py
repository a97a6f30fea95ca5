"""GET /v1/admin/stats (admin): deployment-wide counters, one GetItem (kiln.domain.stats)."""

from kiln import services
from kiln.domain.stats import Stats
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request


def get_stats(request: Request) -> Stats:
    return services.current().stats.current()


handler = endpoint(
    get_stats,
    Contract(
        answers=(Answer(200, model=Stats),),
        notes="Counters of the whole deployment, kept from the table's change stream: a change shows within "
        "seconds, not at once. Counting starts with the stream (items written before it are not counted).",
    ),
)
