-- wrk script: POSTs the same 10 alerts per request as webhook.lua, in Alertmanager's own API v2 shape
-- (POST /api/v2/alerts), so the receiver's ingest and Alertmanager's ingest are compared on equal work.
-- Usage: wrk -s bench/receiver/alertmanager.lua http://127.0.0.1:9093/api/v2/alerts

-- thread_id is a global on purpose: setup() sets it in each thread's own Lua state.
local counter = 0
local next_thread_id = 0

-- run_id keeps a second run (after a warm-up) from repeating the first one's groups
local run_id = os.time()

function setup(thread)
  thread:set("thread_id", next_thread_id)
  thread:set("run_id", run_id)
  next_thread_id = next_thread_id + 1
end

local function alert(group, i)
  return string.format([[{"labels":{"alertname":"GpuXidError","cluster":"inference-eu1","instance":"node-%s:9400","gpu":"%d","uuid":"GPU-%08x-1111-2222-3333-444455556666","xid":"79","severity":"critical","team":"ml-serving"},"annotations":{"summary":"GPU %d on node-%s fell off the bus (Xid 79)","description":"Xid 79 means the GPU has fallen off the bus; the node needs a reboot and the GPU may need replacing.","runbook_url":"https://runbooks.example.com/gpu/xid-79"},"startsAt":"2025-06-01T12:00:00.000Z","generatorURL":"http://prometheus:9090/graph?g0.expr=gpuwatch_gpu_xid_errors_total%%3E0"}]],
    group, i, counter * 16 + i, i, group)
end

function request()
  counter = counter + 1
  local group = string.format("%d-%d-%d", run_id, thread_id, counter)
  local alerts = {}
  for i = 0, 9 do alerts[#alerts + 1] = alert(group, i) end
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, "[" .. table.concat(alerts, ",") .. "]")
end
