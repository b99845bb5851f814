-- A plugin: a budget field, an `extend` verb that raises it, and a cap enforced by its before hook.
Experiment.field('budget', 'number')

Experiment.verb('extend', 'Extended', function(experiment, data)
  experiment.budget = (experiment.budget or 0) + (data.amount or 0)
  return experiment
end)

Experiment.extending(function(experiment)
  if experiment.budget > 10000 then
    error('Budget over 10000 needs finance approval')
  end
end)
