// A receive client built against the reference OpenIGTLink library (libOpenIGTLink): connects to a
// server, receives messages until the server closes the connection (or N messages arrived), unpacks
// each with the library's CRC check, and prints one JSON line per message with the decoded values.
// Usage: igtl_receiver <host> <port> [max-messages]
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include <algorithm>

#include "igtlClientSocket.h"
#include "igtlImageMessage.h"
#include "igtlMessageHeader.h"
#include "igtlPolyDataMessage.h"
#include "igtlStatusMessage.h"
#include "igtlTransformMessage.h"

static uint64_t fnv1a(const unsigned char* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 1099511628211ULL; }
  return h;
}

static void head(igtl::MessageHeader::Pointer& h, bool crcOk) {
  igtlUint32 sec = 0, frac = 0;
  h->GetTimeStamp(&sec, &frac);
  std::printf("{\"type\":\"%s\",\"device\":\"%s\",\"sec\":%u,\"frac\":%u,\"crc\":%s", h->GetDeviceType(),
              h->GetDeviceName(), sec, frac, crcOk ? "true" : "false");
}

int main(int argc, char** argv) {
  if (argc < 3) { std::fprintf(stderr, "usage: igtl_receiver <host> <port> [max-messages]\n"); return 2; }
  long maxMessages = argc > 3 ? std::atol(argv[3]) : -1;
  igtl::ClientSocket::Pointer socket = igtl::ClientSocket::New();
  if (socket->ConnectToServer(argv[1], std::atoi(argv[2])) != 0) {
    std::fprintf(stderr, "igtl_receiver: cannot connect to %s:%s\n", argv[1], argv[2]);
    return 1;
  }
  std::printf("{\"type\":\"CONNECTED\"}\n");
  std::fflush(stdout);
  igtl::MessageHeader::Pointer header = igtl::MessageHeader::New();
  for (long count = 0; maxMessages < 0 || count < maxMessages; count++) {
    header->InitPack();
    int r = socket->Receive(header->GetPackPointer(), header->GetPackSize());
    if (r != header->GetPackSize()) break;  // closed by the server
    header->Unpack();
    const char* type = header->GetDeviceType();
    if (std::strcmp(type, "TRANSFORM") == 0) {
      igtl::TransformMessage::Pointer msg = igtl::TransformMessage::New();
      msg->SetMessageHeader(header);
      msg->AllocatePack();
      if (socket->Receive(msg->GetPackBodyPointer(), msg->GetPackBodySize()) != msg->GetPackBodySize()) break;
      int c = msg->Unpack(1);
      head(header, c & igtl::MessageHeader::UNPACK_BODY);
      igtl::Matrix4x4 m;
      msg->GetMatrix(m);
      std::printf(",\"m\":[");
      for (int i = 0; i < 16; i++) std::printf("%s%.9g", i ? "," : "", m[i / 4][i % 4]);
      std::printf("]}\n");
    } else if (std::strcmp(type, "POLYDATA") == 0) {
      igtl::PolyDataMessage::Pointer msg = igtl::PolyDataMessage::New();
      msg->SetMessageHeader(header);
      msg->AllocatePack();
      if (socket->Receive(msg->GetPackBodyPointer(), msg->GetPackBodySize()) != msg->GetPackBodySize()) break;
      int c = msg->Unpack(1);
      head(header, c & igtl::MessageHeader::UNPACK_BODY);
      igtl::PolyDataPointArray::Pointer points = msg->GetPoints();
      int n = points ? points->GetNumberOfPoints() : 0;
      float lo[3] = {1e30f, 1e30f, 1e30f}, hi[3] = {-1e30f, -1e30f, -1e30f};
      for (int i = 0; i < n; i++) {
        igtlFloat32 p[3];
        points->GetPoint(i, p);
        for (int a = 0; a < 3; a++) { lo[a] = std::min(lo[a], p[a]); hi[a] = std::max(hi[a], p[a]); }
      }
      igtl::PolyDataCellArray::Pointer polys = msg->GetPolygons();
      unsigned int np = polys ? polys->GetNumberOfCells() : 0;
      bool allTriangles = true;
      uint64_t maxIndex = 0;
      for (unsigned int i = 0; i < np; i++) {
        if (polys->GetCellSize(i) != 3) { allTriangles = false; continue; }
        igtlUint32 cell[3];
        polys->GetCell(i, cell);
        for (int k = 0; k < 3; k++) maxIndex = std::max<uint64_t>(maxIndex, cell[k]);
      }
      std::printf(",\"points\":%d,\"polygons\":%u,\"triangles\":%s,\"maxIndex\":%llu", n, np,
                  allTriangles ? "true" : "false", (unsigned long long)maxIndex);
      std::printf(",\"min\":[%.9g,%.9g,%.9g],\"max\":[%.9g,%.9g,%.9g]", lo[0], lo[1], lo[2], hi[0], hi[1], hi[2]);
      int na = msg->GetNumberOfAttributes();
      std::printf(",\"attributes\":[");
      for (int i = 0; i < na; i++) {
        igtl::PolyDataAttribute* a = msg->GetAttribute(i);
        std::vector<igtlFloat32> first(a->GetNumberOfComponents());
        if (a->GetSize() > 0) a->GetNthData(0, first.data());
        std::printf("%s{\"name\":\"%s\",\"type\":%d,\"components\":%u,\"size\":%u,\"first\":[", i ? "," : "",
                    a->GetName(), a->GetType(), a->GetNumberOfComponents(), a->GetSize());
        for (size_t k = 0; k < first.size(); k++) std::printf("%s%.9g", k ? "," : "", first[k]);
        std::printf("]}");
      }
      std::printf("]}\n");
    } else if (std::strcmp(type, "IMAGE") == 0) {
      igtl::ImageMessage::Pointer msg = igtl::ImageMessage::New();
      msg->SetMessageHeader(header);
      msg->AllocatePack();
      if (socket->Receive(msg->GetPackBodyPointer(), msg->GetPackBodySize()) != msg->GetPackBodySize()) break;
      int c = msg->Unpack(1);
      head(header, c & igtl::MessageHeader::UNPACK_BODY);
      int size[3];
      float spacing[3], origin[3], normals[3][3];
      msg->GetDimensions(size);
      msg->GetSpacing(spacing);
      msg->GetOrigin(origin);
      msg->GetNormals(normals);
      uint64_t h = fnv1a(static_cast<unsigned char*>(msg->GetScalarPointer()), msg->GetImageSize());
      std::printf(",\"size\":[%d,%d,%d],\"components\":%d,\"scalar\":%d,\"endian\":%d,\"coord\":%d", size[0],
                  size[1], size[2], msg->GetNumComponents(), msg->GetScalarType(), msg->GetEndian(),
                  msg->GetCoordinateSystem());
      std::printf(",\"spacing\":[%.9g,%.9g,%.9g],\"origin\":[%.9g,%.9g,%.9g]", spacing[0], spacing[1], spacing[2],
                  origin[0], origin[1], origin[2]);
      // normals[r][c]: column c is the direction of index c (i, j, k), as igtl_image_get_matrix fills it.
      std::printf(",\"normals\":[");
      for (int i = 0; i < 9; i++) std::printf("%s%.9g", i ? "," : "", normals[i / 3][i % 3]);
      const unsigned char* px = static_cast<unsigned char*>(msg->GetScalarPointer());
      std::printf("],\"first\":[");
      for (int i = 0; i < 8 && i < msg->GetImageSize(); i++) std::printf("%s%d", i ? "," : "", px[i]);
      std::printf("],\"bytes\":%d,\"hash\":\"%016llx\"}\n", msg->GetImageSize(), (unsigned long long)h);
    } else if (std::strcmp(type, "STATUS") == 0) {
      igtl::StatusMessage::Pointer msg = igtl::StatusMessage::New();
      msg->SetMessageHeader(header);
      msg->AllocatePack();
      if (socket->Receive(msg->GetPackBodyPointer(), msg->GetPackBodySize()) != msg->GetPackBodySize()) break;
      int c = msg->Unpack(1);
      head(header, c & igtl::MessageHeader::UNPACK_BODY);
      std::printf(",\"code\":%d,\"subcode\":%lld,\"error\":\"%s\",\"message\":\"%s\"}\n", msg->GetCode(),
                  (long long)msg->GetSubCode(), msg->GetErrorName(), msg->GetStatusString());
    } else {
      head(header, true);
      std::printf(",\"skipped\":%llu}\n", (unsigned long long)header->GetBodySizeToRead());
      socket->Skip(header->GetBodySizeToRead(), 0);
    }
    std::fflush(stdout);
  }
  socket->CloseSocket();
  return 0;
}
