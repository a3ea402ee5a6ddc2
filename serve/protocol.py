"""Which methods exist: those served here, those Codex has that are not, and their errors.

:data:`CODEX_METHODS` is the list of request methods the real Codex 0.171.0
app-server accepts, in the order its "unknown variant" error names them (read
from that error). A method Codex has but this server does not serve (it needs a
model, a sandbox, an account, ...) gets -32601, the code Codex itself uses for a
method it does not support ("thread/items/list is not supported yet"). A method
Codex does not have gets Codex's own -32600 "unknown variant" error, word for word.

Must not import: store, rollout.cli, rich.
"""

from __future__ import annotations

from .rpc import METHOD_NOT_FOUND, RpcError

__all__ = ["CODEX_METHODS", "EXPERIMENTAL", "SEARCH_LATER", "is_codex_method", "not_served", "unknown_method"]

CODEX_METHODS: tuple[str, ...] = (
    "initialize", "server/diagnostics", "userVerification/status", "userVerification/enroll",
    "userVerification/delete", "userVerification/verify", "userVerification/cancel", "thread/start",
    "thread/resume", "thread/fork", "thread/sample", "thread/sample/cancel", "thread/archive", "thread/delete",
    "thread/unsubscribe", "thread/increment_elicitation", "thread/decrement_elicitation", "thread/name/set",
    "thread/prediction/request", "thread/goal/set", "thread/goal/get", "thread/goal/clear", "thread/queue/add",
    "thread/queue/list", "thread/queue/update", "thread/queue/delete", "thread/queue/reorder",
    "thread/queue/start", "thread/metadata/update", "thread/attachment/add", "thread/attachment/list",
    "thread/attachmentOwner/list", "thread/attachment/remove", "thread/section/move", "thread/settings/update",
    "thread/memoryMode/set", "thread/memory/read", "memory/status", "memory/reset", "rollout/compress",
    "thread/unarchive", "thread/compact/start", "thread/shellCommand", "thread/approveGuardianDeniedAction",
    "thread/backgroundTerminals/clean", "thread/backgroundTerminals/list", "thread/backgroundTerminals/terminate",
    "thread/revert", "thread/list", "project/list", "project/read", "project/create", "project/import",
    "project/update", "project/move", "project/delete", "threadSection/list", "threadSection/create",
    "threadSection/update", "threadSection/delete", "thread/search", "thread/search/stream",
    "thread/search/cancel", "thread/search/stream/cancel", "thread/searchOccurrences", "thread/loaded/list",
    "thread/read", "thread/readState/update", "thread/turns/list", "thread/items/list", "thread/items/read",
    "thread/guardianReview", "thread/inject_items", "thread/prepareApprovedPlan", "skills/list",
    "skills/extraRoots/set", "hooks/list", "marketplace/add", "marketplace/remove", "marketplace/upgrade",
    "plugin/list", "plugin/search", "plugin/installed", "plugin/reconcile", "plugin/read", "plugin/skill/read",
    "plugin/share/save", "plugin/share/updateTargets", "plugin/share/list", "plugin/share/checkout",
    "plugin/share/delete", "app/read", "app/list", "app/installed", "fs/readFile", "fs/writeFile",
    "fs/createDirectory", "fs/getMetadata", "fs/readDirectory", "fs/remove", "fs/copy", "fs/watch", "fs/unwatch",
    "skills/config/write", "plugin/install", "plugin/uninstall", "turn/start", "turn/settings/update",
    "turn/steer", "turn/interrupt", "thread/realtime/start", "thread/realtime/appendAudio",
    "thread/realtime/appendText", "thread/realtime/appendSpeech", "thread/realtime/stop", "thread/timeline/list",
    "thread/realtime/list", "thread/realtime/listVoices", "review/start", "model/list",
    "account/gatewayOAuth/read", "account/gatewayOAuth/login", "account/gatewayOAuth/cancel", "modelProvider/list",
    "modelProvider/config/write", "modelProvider/default/set", "modelProvider/capabilities/read",
    "experimentalFeature/list", "permissionProfile/list", "experimentalFeature/enablement/set",
    "remoteControl/enable", "remoteControl/disable", "remoteControl/status/read", "remoteControl/pairing/start",
    "remoteControl/pairing/status", "remoteControl/client/list", "remoteControl/client/revoke",
    "collaborationMode/list", "mock/experimentalMethod", "environment/add", "environment/info",
    "environment/status", "mcpServer/oauth/login", "config/mcpServer/reload", "mcpServerStatus/list",
    "mcpServer/resource/read", "mcpServer/event/stream/start", "mcpServer/event/stream/stop",
    "mcpServer/tool/call", "windowsSandbox/setupStart", "windowsSandbox/readiness", "account/login/start",
    "account/bedrock/discover", "account/bedrock/setup", "account/gcp/setup",
    "account/bedrock/checkGovCloudRequirements", "account/login/cancel", "accountSession/list",
    "accountSession/switch", "account/logout", "account/securitySetup/read", "account/rateLimits/read",
    "account/rateLimitResetCredit/consume", "account/usage/read", "account/workspaceMessages/read",
    "account/sendAddCreditsNudgeEmail", "feedback/upload", "feedback/save", "command/exec", "command/exec/write",
    "command/exec/terminate", "command/exec/resize", "process/spawn", "process/writeStdin", "process/kill",
    "process/resizePty", "config/read", "externalAgentConfig/detect", "externalAgentConfig/import",
    "externalAgentConfig/import/recordHistory", "externalAgentConfig/import/readHistories", "config/value/write",
    "config/batchWrite", "configRequirements/read", "account/read", "getConversationSummary", "gitDiffToRemote",
    "getAuthStatus", "fuzzyFileSearch", "fuzzyFileSearch/sessionStart", "fuzzyFileSearch/sessionUpdate",
    "fuzzyFileSearch/sessionStop",
)

#: methods a client may call only after opting in with ``capabilities.experimentalApi``
EXPERIMENTAL = frozenset({
    "thread/search", "thread/search/stream", "thread/search/cancel", "thread/search/stream/cancel",
    "thread/searchOccurrences",
})

#: experimental methods not served yet: one thread's occurrences need per-occurrence UTF-16
#: ranges and turn cursors the index does not keep
SEARCH_LATER = frozenset({"thread/searchOccurrences"})

_CODEX_SET = frozenset(CODEX_METHODS)
_EXPECTED = ", ".join(f"`{name}`" for name in CODEX_METHODS)


def is_codex_method(method: str) -> bool:
    return method in _CODEX_SET


def not_served(method: str) -> RpcError:
    """The error for a method Codex has and this server does not serve."""
    if method in SEARCH_LATER:
        why = "the engine's full-text index keeps one snippet per item, not each occurrence's range"
    else:
        why = "it needs a model, a sandbox or a Codex account, which rollout serve does not run"
    return RpcError(METHOD_NOT_FOUND, f"{method} is not served by rollout serve: {why}")


def unknown_method(method: str) -> RpcError:
    """Codex's error for a method it does not know."""
    return RpcError.invalid(f"Invalid request: unknown variant `{method}`, expected one of {_EXPECTED}")
