-- Seed "Verb Lifecycle": an experiment needs something to compare and something to measure
-- before it starts.

-- Weights are written as percentages (50/50) or as fractions (0.5/0.5, GrowthBook style). Thirds
-- never add up exactly in either form (33.33 * 3 = 99.99), so a sum within half a percent of
-- the whole is accepted.
local RELATIVE_TOLERANCE = 0.005

local function weights_add_up(variants)
  local total, weighted = 0, 0
  for _, variant in ipairs(variants) do
    if variant.weight ~= nil then
      total = total + variant.weight
      weighted = weighted + 1
    end
  end
  -- No weights at all means an even split; some but not all is a configuration mistake.
  if weighted == 0 then return true end
  if weighted < #variants then return false, 'every variant needs a weight when one has one' end
  for _, whole in ipairs({100, 1}) do
    if math.abs(total - whole) <= whole * RELATIVE_TOLERANCE then return true end
  end
  return false, 'variant weights add up to ' .. total .. ', not 100 (or 1)'
end

Experiment.starting(function(experiment)
  local variants = experiment.variants
  if not variants or #variants < 2 then
    error('At least two variants required to start')
  end
  if not experiment.primaryMetric or experiment.primaryMetric == '' then
    error('Primary metric must be defined before starting')
  end
  local ok, problem = weights_add_up(variants)
  if not ok then error(problem) end
  local allocation = experiment.trafficAllocation
  -- The schema already bounds it to 0-100; starting with 0 would assign nobody.
  if allocation ~= nil and (allocation <= 0 or allocation > 100) then
    error('trafficAllocation must be above 0 and at most 100 to start, not ' .. allocation)
  end
end)
