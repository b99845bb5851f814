-- An operator rule on top of the shipped validation: nobody starts an experiment that nobody owns.
Experiment.starting(function(experiment)
  if not experiment.owner then
    error('Assign an owner (a Contact) before starting ' .. experiment.name)
  end
end)
