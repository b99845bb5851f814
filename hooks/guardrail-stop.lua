-- Issue 18: guardrails that stop harm. `analyze` runs an always-valid one-sided harm test on
-- each of the experiment's `guardrails`; when one is significantly harmed this pauses the
-- experiment, turns its flags off and asks the owner to look, with the figures. Change the policy
-- here (e.g. only notify, or stop instead of pause).

-- "revenue on green: lift -8.10%, always-valid bound -3.52%" for every harmed guardrail and arm.
local function harm_report(experiment)
  local summary = type(experiment.results) == 'table' and experiment.results.summary
  if type(summary) ~= 'table' or summary.guardrailHarmed ~= true then return nil end
  local lines = {}
  for _, guardrail in ipairs(summary.guardrails or {}) do
    for _, arm in ipairs(guardrail.variants or {}) do
      if arm.harmed then
        lines[#lines + 1] = string.format('%s on %s: lift %+.2f%%, always-valid bound %+.2f%%',
          guardrail.metric, arm.variant, 100 * arm.lift, 100 * arm.bound)
      end
    end
  end
  return lines
end

Experiment.analyzed(function(experiment, ctx)
  -- Only a live experiment can be paused; a paused or finished one has already stopped harming.
  if experiment.status ~= 'Running' and experiment.status ~= 'Started' then return end
  local harmed = harm_report(experiment)
  if not harmed or #harmed == 0 then return end

  ctx.Experiment.pause(experiment.id)
  for _, flag in ipairs(ctx.FeatureFlag.find { experiment = experiment.id }) do
    if flag.status ~= 'Disabled' and flag.status ~= 'Archived' then
      ctx.FeatureFlag.disable(flag.id)
    end
  end
  ctx.Activity.create {
    subject = 'Guardrail harmed, experiment paused: ' .. experiment.name .. ' (' ..
      table.concat(harmed, '; ') .. ')',
    type = 'Task',
    contact = experiment.owner,
    status = 'Pending',
  }
end)
