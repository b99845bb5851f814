-- Seed "Verb Lifecycle": announce a started experiment as an analytics Event, so funnels and
-- dashboards can mark when it began.
Experiment.started(function(experiment, ctx)
  ctx.Event.create {
    type = 'experiment.started',
    subject = experiment.id,
    data = {
      experiment = experiment.id,
      variants = #(experiment.variants or {}),
      trafficAllocation = experiment.trafficAllocation,
    },
  }
end)
