#include "server/channel.hpp"

#include <algorithm>

namespace verdict::server {

void answer_lines(Dispatcher& dispatcher, const LineJob& job, std::size_t output_budget,
                  std::size_t max_message_bytes, std::size_t& output, Answers& answers,
                  const LineScope& around_line) {
  Channel& channel = *job.channel;
  for (; answers.done < job.frames.size(); ++answers.done) {
    if (answers.close) continue;
    if (channel.unsent_bytes() + output > output_budget) return;
    const auto& frame = job.frames[answers.done];
    if (frame.oversized) {
      std::string line = Dispatcher::oversized_reply(max_message_bytes) + "\n";
      output += line.size();
      answers.text += line;
      continue;
    }
    auto dispatch = [&] { return dispatcher.handle_frame(frame, channel.session_for_next_line()); };
    Reply reply = around_line ? around_line(frame, dispatch) : dispatch();
    if (!reply.line.empty()) {
      output += reply.line.size() + 1;
      if (answers.text.empty() && answers.done + 1 == job.frames.size()) {
        answers.text = std::move(reply.line);  // the job's only (or last) reply, uncopied
      } else {
        if (answers.text.empty()) {
          // Room for the rest of the job's replies if they are like this one, up to what the
          // output budget lets through: the batch's text is not regrown (and copied) per reply.
          std::size_t expected = (reply.line.size() + 1) * (job.frames.size() - answers.done);
          answers.text.reserve(std::min(expected, output_budget));
        }
        answers.text += reply.line;
      }
      answers.text += '\n';
    }
    answers.close = reply.close;
  }
}

void deliver(const LineJob& job, Answers& answers) {
  Channel& channel = *job.channel;
  if (!answers.text.empty()) channel.send(std::move(answers.text));
  if (answers.close) channel.close_after_send();
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < answers.done; ++i) bytes += job.frames[i].held_bytes();
  channel.answered(
      {.lines = answers.done, .bytes = bytes, .authenticated = channel.session.authenticated});
}

}  // namespace verdict::server
