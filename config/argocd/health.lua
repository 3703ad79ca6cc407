-- Argo CD health check for the Plexus kinds (net.plexus.dev): NetworkPlane, AttachmentPolicy,
-- NodeNetworkPolicy, NodeNetworkState and PlexusConfig. The same script serves every kind;
-- argocd-cm-patch.yaml carries one copy per kind (test/argocd keeps them identical).
--   Healthy      Ready=True, the status describes the current generation, nothing progressing
--   Progressing  no status yet, generation not observed, Progressing=True, or Ready=False/Unknown
--                with a reason that means "still converging" (PodsPending, RollingOut, ...)
--   Degraded     Degraded=True, or Ready=False with a failure reason
local hs = {}

local failureReasons = {
  InternalError = true, InvalidConfig = true, ApplyFailed = true, NADConflict = true,
  PodsFailed = true, PlaneNotFound = true, NodesFailed = true, PolicyConflict = true,
  AgentFailed = true, InstallFailed = true, NumVfsExceedsTotal = true, DeviceBusy = true,
  DriverBindFailed = true, PFNotFound = true, OutOfMemory = true, ReadBackMismatch = true,
  HugepagesShortfall = true, DrainBlocked = true, InvalidNodeSelector = true,
}

local function describe(c)
  local msg = c.reason or ""
  if c.message ~= nil and c.message ~= "" then
    if msg ~= "" then msg = msg .. ": " end
    msg = msg .. c.message
  end
  return msg
end

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Plexus controller to report status"
  return hs
end

local conditions = {}
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    conditions[c.type] = c
  end
end
local ready = conditions["Ready"]
local degraded = conditions["Degraded"]
local progressing = conditions["Progressing"]

local generation = nil
if obj.metadata ~= nil then generation = obj.metadata.generation end
local observed = obj.status.observedGeneration
if observed == nil and ready ~= nil then observed = ready.observedGeneration end
if generation ~= nil and observed ~= nil and observed < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to observe generation " .. generation ..
    " (status is for generation " .. observed .. ")"
  return hs
end

if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(degraded)
  return hs
end

if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition"
  return hs
end

if ready.status == "False" and failureReasons[ready.reason] then
  hs.status = "Degraded"
  hs.message = describe(ready)
  return hs
end

if progressing ~= nil and progressing.status == "True" then
  hs.status = "Progressing"
  hs.message = describe(progressing)
  return hs
end

if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end

hs.status = "Progressing"
hs.message = describe(ready)
return hs
