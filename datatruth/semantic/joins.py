"""The entity join graph: models connect through shared entity names (foreign → primary/unique).

Edges only go in the many-to-one direction (from a model holding an entity as `foreign`, or as any key,
to a model where that entity is unique), so following them never multiplies rows: that is what keeps
the compiler from double counting. A hop the other way is a fan-out (one-to-many).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from datatruth.semantic.model import SemanticLayer


@dataclass(frozen=True)
class JoinStep:
    """One many-to-one hop: rows of `source` find at most one row of `target` through `entity`."""

    source: str
    target: str
    entity: str
    source_exprs: tuple[str, ...]
    target_exprs: tuple[str, ...]


@dataclass(frozen=True)
class JoinPath:
    """A chain of many-to-one hops from one model to another (empty: the same model)."""

    steps: tuple[JoinStep, ...]

    @property
    def key(self) -> tuple[tuple[str, str], ...]:
        """The path as (entity, target) pairs, for comparing paths."""
        return tuple((s.entity, s.target) for s in self.steps)

    def describe(self) -> str:
        """The path as text, e.g. order_lines -[order]-> orders -[customer]-> customers."""
        if not self.steps:
            return "(same model)"
        return self.steps[0].source + "".join(f" -[{s.entity}]-> {s.target}" for s in self.steps)


class JoinGraph:
    """Shortest many-to-one join paths between the semantic models of a layer."""

    def __init__(self, layer: SemanticLayer) -> None:
        self.layer = layer
        self._edges: dict[str, list[JoinStep]] = {m.name: [] for m in layer.models}
        for source in layer.models:
            for entity in source.entities:
                for target in layer.models:
                    if target.name == source.name:
                        continue
                    other = target.entity(entity.name)
                    if other is None or not other.is_unique_side:
                        continue
                    if len(other.key_exprs) != len(entity.key_exprs):
                        continue  # validate() reports the mismatch
                    self._edges[source.name].append(
                        JoinStep(source.name, target.name, entity.name, entity.key_exprs, other.key_exprs)
                    )
        for steps in self._edges.values():
            steps.sort(key=lambda s: (s.target, s.entity))
        self._paths: dict[str, dict[str, list[JoinPath]]] = {}

    @classmethod
    def of(cls, layer: SemanticLayer) -> JoinGraph:
        """The layer's join graph, built once per layer."""
        return layer.memo("join_graph", lambda: cls(layer))

    def steps_from(self, model: str) -> list[JoinStep]:
        """The many-to-one hops leaving a model."""
        return self._edges.get(model, [])

    def shortest_paths(self, source: str) -> dict[str, list[JoinPath]]:
        """For each model reachable from `source`, every distinct shortest path (BFS, deterministic order)."""
        if source in self._paths:
            return self._paths[source]
        found: dict[str, list[JoinPath]] = {source: [JoinPath(())]}
        depth = {source: 0}
        queue = deque([source])
        while queue:
            here = queue.popleft()
            for step in self.steps_from(here):
                d = depth[here] + 1
                if step.target not in depth:
                    depth[step.target] = d
                    queue.append(step.target)
                if depth[step.target] == d:
                    bucket = found.setdefault(step.target, [])
                    for path in found[here]:
                        if any(s.target == step.target or s.source == step.target for s in path.steps):
                            continue
                        candidate = JoinPath(path.steps + (step,))
                        if candidate.key not in {p.key for p in bucket}:
                            bucket.append(candidate)
        self._paths[source] = found
        return found

    def path(self, source: str, target: str) -> JoinPath | None:
        """The shortest many-to-one path (the first, when several tie), or None when unreachable."""
        paths = self.shortest_paths(source).get(target)
        return paths[0] if paths else None

    def ambiguous(self, source: str, target: str) -> list[JoinPath]:
        """All tied shortest paths when there is more than one, else an empty list."""
        paths = self.shortest_paths(source).get(target, [])
        return paths if len(paths) > 1 else []

    def fans_out(self, source: str, target: str) -> bool:
        """True when `target` is linked to `source` only through a one-to-many hop (joining would fan out)."""
        return self.path(source, target) is None and self.connected(source, target)

    def connected(self, a: str, b: str) -> bool:
        """True when the two models are linked by entities in any direction."""
        seen = {a}
        queue = deque([a])
        while queue:
            here = queue.popleft()
            if here == b:
                return True
            neighbours = [s.target for s in self.steps_from(here)]
            neighbours += [src for src, steps in self._edges.items() if any(s.target == here for s in steps)]
            for n in neighbours:
                if n not in seen:
                    seen.add(n)
                    queue.append(n)
        return False
