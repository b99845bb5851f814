-- Tell the owner when their experiment is paused, so a pause is never forgotten.
Experiment.paused(function(experiment, ctx)
  if not experiment.owner then return end
  ctx.Activity.create {
    subject = 'Experiment paused: ' .. experiment.name,
    type = 'Task',
    contact = experiment.owner,
    status = 'Pending',
  }
end)
