#include "http/content_type.h"

#include <gtest/gtest.h>

namespace reprise::http {
namespace {

TEST(ContentTypeForKey, NamesTheTypesTheStagesWrite) {
  EXPECT_EQ(ContentTypeForKey("assets/a/hls/1/master.m3u8"), "application/vnd.apple.mpegurl");
  EXPECT_EQ(ContentTypeForKey("assets/a/hls/1/seg_00000.ts"), "video/mp2t");
  EXPECT_EQ(ContentTypeForKey("assets/a/thumbnail/1/thumb.jpg"), "image/jpeg");
  EXPECT_EQ(ContentTypeForKey("x/photo.JPEG"), "image/jpeg");
  EXPECT_EQ(ContentTypeForKey("assets/a/waveform/1/waveform.png"), "image/png");
  EXPECT_EQ(ContentTypeForKey("assets/a/audio/1/audio.mp3"), "audio/mpeg");
  EXPECT_EQ(ContentTypeForKey("assets/a/audio/1/audio.wav"), "audio/wav");
  EXPECT_EQ(ContentTypeForKey("assets/a/waveform/1/waveform.json"), "application/json");
  EXPECT_EQ(ContentTypeForKey("assets/a/captions/1/en.vtt"), "text/vtt");
}

TEST(ContentTypeForKey, FallsBackToOctetStream) {
  EXPECT_EQ(ContentTypeForKey("originals/ab/abcdef0123"), kOctetStream);
  EXPECT_EQ(ContentTypeForKey("a/b.unknown"), kOctetStream);
  EXPECT_EQ(ContentTypeForKey("a.png/b"), kOctetStream);  // the extension is the last segment's
  EXPECT_EQ(ContentTypeForKey("a/.m3u8"), kOctetStream);
  EXPECT_EQ(ContentTypeForKey("a/b."), kOctetStream);
  EXPECT_EQ(ContentTypeForKey(""), kOctetStream);
}

// An original's type: from what probing found, else from its name (media/content_type.h).
TEST(OriginalContentType, TheProbeDecidesAndTheNameFillsIn) {
  EXPECT_EQ(media::OriginalContentType("mov,mp4,m4a,3gp,3g2,mj2", false, "x.bin"), "video/mp4");
  EXPECT_EQ(media::OriginalContentType("mov,mp4,m4a,3gp,3g2,mj2", true, "song.m4a"), "audio/mp4");
  EXPECT_EQ(media::OriginalContentType("matroska,webm", false, "clip"), "video/webm");
  EXPECT_EQ(media::OriginalContentType("mp3", true, "upload"), "audio/mpeg");
  EXPECT_EQ(media::OriginalContentType("png_pipe", false, ""), "image/png");
  EXPECT_EQ(media::OriginalContentType("", false, "upload clip.MOV"), "video/quicktime");
  EXPECT_EQ(media::OriginalContentType("some_rare_demuxer", false, "a.flac"), "audio/flac");
  EXPECT_EQ(media::OriginalContentType("", false, "no-extension"), media::kOctetStream);
}

}  // namespace
}  // namespace reprise::http
