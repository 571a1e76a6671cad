"""Authorization of the drill API server, RBAC-shaped: the admin user may do anything, the
read-only user get/list/watch (ClusterRole "view"). Refusals are the API server's 403 text;
SelfSubjectAccessReview and SelfSubjectRulesReview answer for any verb and resource, so
`kubectl auth can-i` and clients can ask before they offer a destructive action."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from warroom.drill.kube_http import (
    READ_VERBS,
    USER,
    ApiError,
    Target,
    User,
    json_response,
    read_body,
)
from warroom.drill.resources import AUTHZ


def allowed(user: User, verb: str) -> bool:
    return not user.read_only or verb in READ_VERBS


def role(user: User) -> str:
    return "view" if user.read_only else "cluster-admin"


class AuthzHandlers:
    def _authorize(self, request: web.Request, verb: str, t: Target) -> None:
        user = request[USER]
        if allowed(user, verb) or not t.res.stored:  # reviews: system:basic-user, everyone
            return
        resource = f"{t.res.plural}/{t.sub}" if t.sub else t.res.plural
        who = f'{t.res.group_resource} "{t.name}"' if t.name else t.res.group_resource
        scope = f'in the namespace "{t.namespace}"' if t.namespace else "at the cluster scope"
        msg = (
            f'{who} is forbidden: User "{user.name}" cannot {verb} resource "{resource}" '
            f'in API group "{t.res.group}" {scope}'
        )
        details: dict[str, Any] = {"kind": t.res.plural}
        if t.name:
            details = {
                "name": t.name,
                **({"group": t.res.group} if t.res.group else {}),
                "kind": t.res.plural,
            }
        elif t.res.group:
            details["group"] = t.res.group
        raise ApiError(403, "Forbidden", msg, details)

    async def review(self, request: web.Request, t: Target) -> web.Response:
        body = await read_body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the body of the request must be an object")
        if body.get("kind", t.res.kind) != t.res.kind:
            raise ApiError(
                400,
                "BadRequest",
                f"the API version in the data ({body.get('apiVersion')}) does not match "
                f"the expected API version ({AUTHZ}/v1)",
            )
        spec = body.get("spec") or {}
        user = request[USER]
        if t.res.kind == "SelfSubjectAccessReview":
            status = self._access_status(user, spec)
        else:
            status = self._rules_status(user)
        out = {
            "kind": t.res.kind,
            "apiVersion": f"{AUTHZ}/v1",
            "metadata": {"creationTimestamp": None},
            "spec": spec,
            "status": status,
        }
        return json_response(out, 201)

    @staticmethod
    def _access_status(user: User, spec: dict[str, Any]) -> dict[str, Any]:
        attrs = spec.get("resourceAttributes") or spec.get("nonResourceAttributes") or {}
        ok = allowed(user, str(attrs.get("verb", "")))
        status: dict[str, Any] = {"allowed": ok}
        if ok:
            status["reason"] = (
                f'RBAC: allowed by ClusterRoleBinding "{user.name}" of ClusterRole '
                f'"{role(user)}" to User "{user.name}"'
            )
        return status

    @staticmethod
    def _rules_status(user: User) -> dict[str, Any]:
        verbs = sorted(READ_VERBS) if user.read_only else ["*"]
        review = ["create"]  # every authenticated user may ask what it may do
        return {
            "resourceRules": [
                {"verbs": review, "apiGroups": [AUTHZ], "resources": ["selfsubjectaccessreviews"]},
                {"verbs": review, "apiGroups": [AUTHZ], "resources": ["selfsubjectrulesreviews"]},
                {"verbs": verbs, "apiGroups": ["*"], "resources": ["*"]},
            ],
            "nonResourceRules": [
                {"verbs": ["get"] if user.read_only else ["*"], "nonResourceURLs": ["*"]}
            ],
            "incomplete": False,
        }
