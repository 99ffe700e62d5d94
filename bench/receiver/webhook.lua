-- wrk script: POSTs Alertmanager webhook payloads (version 4) with 10 alerts per group to the receiver.
-- Every request carries a new groupKey, so none is a duplicate and every one is stored durably.
-- Usage: wrk -s bench/receiver/webhook.lua http://127.0.0.1:9095/api/v1/alerts

-- thread_id is a global on purpose: setup() sets it in each thread's own Lua state.
local counter = 0
local next_thread_id = 0

-- run_id keeps a second run (after a warm-up) from repeating the first one's groups, and WRK_RUN two wrk
-- processes started in the same second (one per replica) from sending the same groups
local run_id = os.time() .. (os.getenv("WRK_RUN") or "")

function setup(thread)
  thread:set("thread_id", next_thread_id)
  thread:set("run_id", run_id)
  next_thread_id = next_thread_id + 1
end

local function alert(group, i)
  return string.format([[{"status":"firing","labels":{"alertname":"GpuXidError","cluster":"inference-eu1","instance":"node-%s:9400","gpu":"%d","uuid":"GPU-%08x-1111-2222-3333-444455556666","xid":"79","severity":"critical","team":"ml-serving"},"annotations":{"summary":"GPU %d on node-%s fell off the bus (Xid 79)","description":"Xid 79 means the GPU has fallen off the bus; the node needs a reboot and the GPU may need replacing.","runbook_url":"https://runbooks.example.com/gpu/xid-79"},"startsAt":"2025-06-01T12:00:00.000Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph?g0.expr=gpuwatch_gpu_xid_errors_total%%3E0","fingerprint":"%016x"}]],
    group, i, counter * 16 + i, i, group, counter * 16 + i)
end

function request()
  counter = counter + 1
  local group = string.format("%s-%d-%d", run_id, thread_id, counter)
  local alerts = {}
  for i = 0, 9 do alerts[#alerts + 1] = alert(group, i) end
  local body = string.format([[{"version":"4","groupKey":"{}/{severity=\"critical\"}:{alertname=\"GpuXidError\", instance=\"node-%s:9400\"}","truncatedAlerts":0,"status":"firing","receiver":"gpuwatch","groupLabels":{"alertname":"GpuXidError","instance":"node-%s:9400"},"commonLabels":{"alertname":"GpuXidError","cluster":"inference-eu1","instance":"node-%s:9400","severity":"critical","team":"ml-serving","xid":"79"},"commonAnnotations":{"runbook_url":"https://runbooks.example.com/gpu/xid-79"},"externalURL":"http://alertmanager:9093","alerts":[%s]}]],
    group, group, group, table.concat(alerts, ","))
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["User-Agent"] = "Alertmanager/0.25.0"}, body)
end
