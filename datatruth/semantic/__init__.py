"""The semantic layer: model files (entities, dimensions, measures, metrics), validation, the QueryPlan,
the entity join graph and the compiler from a plan to SQL in the warehouse's dialect."""
