-- Seed "Cross-Domain Patterns": when an experiment is concluded, propagate its results.
local CONFIDENT = 95

-- The winner the latest analysis suggested; a conclusion forced against (or without) the
-- analysis has none, so it is recorded but never rolled out.
local function supported_winner(experiment)
  local summary = type(experiment.results) == 'table' and experiment.results.summary
  return type(summary) == 'table' and summary.winner or nil
end

Experiment.concluded(function(experiment, ctx)
  -- Roll out the experiment's flags only for a winner the data supports.
  if experiment.winner and experiment.winner == supported_winner(experiment)
      and (experiment.confidence or 0) >= CONFIDENT then
    for _, flag in ipairs(ctx.FeatureFlag.find { experiment = experiment.id }) do
      -- Flags already out (or retired) cannot be rolled out again.
      if flag.status ~= 'RolledOut' and flag.status ~= 'Archived' then
        ctx.FeatureFlag.rollout(flag.id)
      end
    end
  end

  -- Record the outcome as a metric.
  ctx.Metric.create {
    name = 'Experiment: ' .. experiment.name,
    type = 'Conversion',
    value = experiment.confidence,
  }

  -- Ask the owner to write up the learnings.
  ctx.Activity.create {
    subject = 'Experiment concluded: ' .. experiment.name,
    type = 'Task',
    contact = experiment.owner,
    status = 'Pending',
  }
end)
