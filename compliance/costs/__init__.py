"""Cost model: prices per route, usage per feature, margins, projections, cost of compliance.

Every function returns a pandas DataFrame the dashboard can plot directly.
"""

from compliance.costs.compliance_cost import compliance_cost_by_feature, compliance_cost_frame
from compliance.costs.prices import Price, PriceNotFound, list_price, price_for
from compliance.costs.projection import project, projection_frame
from compliance.costs.sensitivity import sensitivity_frame
from compliance.costs.tables import feature_costs, flows_frame, segment_margins

__all__ = [
    "Price", "PriceNotFound", "compliance_cost_by_feature", "compliance_cost_frame",
    "feature_costs", "flows_frame", "list_price", "price_for",
    "project", "projection_frame", "segment_margins", "sensitivity_frame",
]
